// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/policy/balancers_p.h>

#include <QtCore/QHash>
#include <QtCore/QThread>
#include <QtTest/QTest>
#include <atomic>
#include <memory>
#include <vector>

using Tomato::Candidate;
using Tomato::CallInfo;
using Tomato::ConsistentHashBalancer;
using Tomato::LeastInFlightBalancer;
using Tomato::LoadBalancer;
using Tomato::RandomBalancer;
using Tomato::RoundRobinBalancer;

namespace {

// An instance as a policy sees it: a value whose weight and load a test sets. Atomic, so the
// concurrency test can change loads while other threads select.
class FakeCandidate final : public Candidate
{
public:
    FakeCandidate(QString key, int weight, int inFlight)
        : m_key(std::move(key)), weight(weight), calls(inFlight)
    {
    }
    const QString &key() const override { return m_key; }
    int effectiveWeight() const override { return weight.load(std::memory_order_relaxed); }
    int inFlight() const override { return calls.load(std::memory_order_relaxed); }

    const QString m_key;
    std::atomic<int> weight;
    std::atomic<int> calls;
};

// Owns the fake instances of a test and hands out candidate lists of some of them.
class Instances
{
public:
    FakeCandidate *add(const QString &key, int weight = 100, int inFlight = 0)
    {
        m_items.push_back(std::make_unique<FakeCandidate>(key, weight, inFlight));
        return m_items.back().get();
    }
    QList<Candidate *> all() const
    {
        QList<Candidate *> out;
        for (const auto &item : m_items)
            out.append(item.get());
        return out;
    }
    QList<Candidate *> only(const QStringList &keys) const
    {
        QList<Candidate *> out;
        for (const QString &key : keys) {
            for (const auto &item : m_items) {
                if (item->key() == key)
                    out.append(item.get());
            }
        }
        return out;
    }

private:
    std::vector<std::unique_ptr<FakeCandidate>> m_items;
};

QString pick(LoadBalancer &policy, const QList<Candidate *> &candidates, const QByteArray &hashKey = {})
{
    const qsizetype index = policy.select(candidates, CallInfo{hashKey});
    if (index < 0 || index >= candidates.size())
        return QStringLiteral("<out of range: %1>").arg(index);
    return candidates[index]->key();
}

QHash<QString, int> countPicks(LoadBalancer &policy, const QList<Candidate *> &candidates, int picks)
{
    QHash<QString, int> counts;
    for (int i = 0; i < picks; ++i)
        ++counts[pick(policy, candidates)];
    return counts;
}

QByteArray userKey(int i)
{
    return "user-" + QByteArray::number(i);
}

// The instance each of `keys` user keys maps to.
QStringList owners(ConsistentHashBalancer &policy, const QList<Candidate *> &candidates, int keys)
{
    QStringList out;
    out.reserve(keys);
    for (int i = 0; i < keys; ++i)
        out.append(pick(policy, candidates, userKey(i)));
    return out;
}

std::unique_ptr<LoadBalancer> seededPolicy(const QString &name, quint32 seed)
{
    if (name == u"random")
        return std::make_unique<RandomBalancer>(seed);
    if (name == u"least-in-flight")
        return std::make_unique<LeastInFlightBalancer>(seed);
    if (name == u"consistent-hash")
        return std::make_unique<ConsistentHashBalancer>(160, seed);
    return LoadBalancer::create(name);
}

} // namespace

class tst_LoadBalancer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void namesListsTheFourPoliciesInOrder();
    void createMakesEachNamedPolicy();
    void createRefusesAnUnknownName_data();
    void createRefusesAnUnknownName();
    void everyPolicyPicksTheOnlyCandidate_data();
    void everyPolicyPicksTheOnlyCandidate();

    void randomPicksInProportionToWeight_data();
    void randomPicksInProportionToWeight();
    void randomFollowsAWeightThatChanges();

    void roundRobinGivesNginxSequenceForWeightsFiveOneOne();
    void roundRobinAlternatesEquallyWeightedCandidates();
    void roundRobinKeepsProportionsWhileCandidatesLeaveAndJoin();
    void roundRobinFollowsInstancesByKeyWhenTheListIsReordered();
    void roundRobinForgetsInstancesGoneForLong();

    void leastInFlightAlwaysPicksTheLessLoadedOfTwo();
    void leastInFlightNeverPicksTheBusiestWhenOthersAreIdle();
    void leastInFlightComparesLoadPerUnitOfWeight();
    void leastInFlightSpreadsOverIdleEqualCandidates();

    void consistentHashIsXxHash64_data();
    void consistentHashIsXxHash64();
    void consistentHashSendsAKeyToTheSameInstanceEveryTime();
    void consistentHashMovesAboutASixthOfKeysOnlyToAJoiningInstance();
    void consistentHashMovesOnlyTheKeysOfALeavingInstance();
    void consistentHashSpreadsKeysEvenly();
    void consistentHashKeepsItsRingWhenCallsLeaveInstancesOut();
    void consistentHashForgetsInstancesGoneForLong();
    void consistentHashWithoutAKeyPicksAnyInstanceByWeight();

    void everyPolicyStaysConsistentUnderConcurrentSelects_data();
    void everyPolicyStaysConsistentUnderConcurrentSelects();
};

void tst_LoadBalancer::namesListsTheFourPoliciesInOrder()
{
    QCOMPARE(LoadBalancer::names(),
             QStringList({"random", "round-robin", "least-in-flight", "consistent-hash"}));
}

void tst_LoadBalancer::createMakesEachNamedPolicy()
{
    for (const QString &name : LoadBalancer::names()) {
        const auto policy = LoadBalancer::create(name);
        QVERIFY2(policy, qPrintable(name));
        QCOMPARE(policy->name(), name);
    }
}

void tst_LoadBalancer::createRefusesAnUnknownName_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("empty") << QString();
    QTest::newRow("wrong case") << QStringLiteral("Random");
    QTest::newRow("underscore") << QStringLiteral("round_robin");
    QTest::newRow("another product's name") << QStringLiteral("weighted-response-time");
    QTest::newRow("trailing space") << QStringLiteral("consistent-hash ");
}

void tst_LoadBalancer::createRefusesAnUnknownName()
{
    QFETCH(QString, name);
    QVERIFY(!LoadBalancer::create(name));
}

void tst_LoadBalancer::everyPolicyPicksTheOnlyCandidate_data()
{
    QTest::addColumn<QString>("policy");
    for (const QString &name : LoadBalancer::names())
        QTest::newRow(qPrintable(name)) << name;
}

void tst_LoadBalancer::everyPolicyPicksTheOnlyCandidate()
{
    QFETCH(QString, policy);
    Instances instances;
    instances.add("a:1", 7, 3);
    const auto balancer = LoadBalancer::create(policy);
    for (int i = 0; i < 100; ++i)
        QCOMPARE(balancer->select(instances.all(), CallInfo{userKey(i)}), qsizetype(0));
    QCOMPARE(balancer->select(instances.all(), CallInfo{}), qsizetype(0));
}

void tst_LoadBalancer::randomPicksInProportionToWeight_data()
{
    // Chi-squared with 2 degrees of freedom is exponential: P(X > x) = exp(-x/2), so the
    // critical value of p is -2 ln p. A seeded run is deterministic (it passes or fails every
    // time); the unseeded run may fail by chance only with probability 1e-7.
    QTest::addColumn<int>("seed"); // -1: unseeded
    QTest::addColumn<double>("critical");
    QTest::newRow("seed 1, p=0.001") << 1 << 13.82;
    QTest::newRow("seed 2, p=0.001") << 2 << 13.82;
    QTest::newRow("seed 3, p=0.001") << 3 << 13.82;
    QTest::newRow("unseeded, p=1e-7") << -1 << 32.24;
}

void tst_LoadBalancer::randomPicksInProportionToWeight()
{
    QFETCH(int, seed);
    QFETCH(double, critical);
    Instances instances;
    instances.add("a:1", 1);
    instances.add("b:1", 2);
    instances.add("c:1", 3);
    RandomBalancer policy(seed < 0 ? std::nullopt : std::optional<quint32>(quint32(seed)));

    const int picks = 60000;
    const auto counts = countPicks(policy, instances.all(), picks);
    QCOMPARE(counts.size(), 3);
    const QHash<QString, double> expected{{"a:1", picks / 6.0}, {"b:1", picks * 2 / 6.0},
                                          {"c:1", picks * 3 / 6.0}};
    double chi2 = 0;
    for (auto it = expected.cbegin(); it != expected.cend(); ++it) {
        const double d = counts.value(it.key()) - it.value();
        chi2 += d * d / it.value();
    }
    QVERIFY2(chi2 < critical, qPrintable(QStringLiteral("chi2 %1 >= %2; counts a %3 b %4 c %5")
                                             .arg(chi2).arg(critical).arg(counts.value("a:1"))
                                             .arg(counts.value("b:1")).arg(counts.value("c:1"))));
}

void tst_LoadBalancer::randomFollowsAWeightThatChanges()
{
    // Warm-up changes weights between calls; each select reads them afresh.
    Instances instances;
    FakeCandidate *warming = instances.add("new:1", 1);
    instances.add("old:1", 1000);
    RandomBalancer policy(7);
    const int early = countPicks(policy, instances.all(), 10000).value("new:1");
    warming->weight = 1000;
    const int late = countPicks(policy, instances.all(), 10000).value("new:1");
    QVERIFY2(early < 50, qPrintable(QString::number(early)));        // expected 10
    QVERIFY2(late > 4500 && late < 5500, qPrintable(QString::number(late))); // expected 5000
}

void tst_LoadBalancer::roundRobinGivesNginxSequenceForWeightsFiveOneOne()
{
    Instances instances;
    instances.add("a", 5);
    instances.add("b", 1);
    instances.add("c", 1);
    RoundRobinBalancer policy;
    QStringList sequence;
    for (int i = 0; i < 21; ++i)
        sequence.append(pick(policy, instances.all()));
    const QStringList cycle{"a", "a", "b", "a", "c", "a", "a"};
    QCOMPARE(sequence, cycle + cycle + cycle);
}

void tst_LoadBalancer::roundRobinAlternatesEquallyWeightedCandidates()
{
    Instances instances;
    instances.add("a", 100);
    instances.add("b", 100);
    instances.add("c", 100);
    RoundRobinBalancer policy;
    QStringList sequence;
    for (int i = 0; i < 9; ++i)
        sequence.append(pick(policy, instances.all()));
    QCOMPARE(sequence, QStringList({"a", "b", "c", "a", "b", "c", "a", "b", "c"}));
}

void tst_LoadBalancer::roundRobinKeepsProportionsWhileCandidatesLeaveAndJoin()
{
    // Smooth round-robin keeps every instance within a pick or two of its exact share at any
    // moment; a change of the set leaves an offset of at most one total weight, hence +-2.
    const int tolerance = 2;
    Instances instances;
    instances.add("a", 2);
    instances.add("b", 1);
    instances.add("c", 1);
    instances.add("d", 4);
    RoundRobinBalancer policy;
    const auto expectShares = [&](const QStringList &keys, int picks, const QList<int> &expected) {
        const auto counts = countPicks(policy, instances.only(keys), picks);
        for (qsizetype i = 0; i < keys.size(); ++i) {
            const int got = counts.value(keys[i]);
            if (qAbs(got - expected[i]) > tolerance) {
                qWarning() << "after" << keys << picks << "picks:" << keys[i] << "got" << got
                           << "expected" << expected[i];
                return false;
            }
        }
        return counts.size() == keys.size();
    };

    QVERIFY(expectShares({"a", "b", "c"}, 400, {200, 100, 100}));
    QVERIFY(expectShares({"a", "c"}, 300, {200, 100}));                // b left
    QVERIFY(expectShares({"a", "b", "c"}, 400, {200, 100, 100}));      // b back
    QVERIFY(expectShares({"a", "b", "c", "d"}, 800, {200, 100, 100, 400})); // d new
    QVERIFY(expectShares({"b", "c", "d"}, 600, {100, 100, 400}));      // a left
}

void tst_LoadBalancer::roundRobinFollowsInstancesByKeyWhenTheListIsReordered()
{
    // The caller's list may come in another order each time; the shares follow the keys.
    Instances instances;
    instances.add("a", 5);
    instances.add("b", 1);
    instances.add("c", 1);
    RoundRobinBalancer policy;
    QHash<QString, int> counts;
    const QList<QStringList> orders{{"a", "b", "c"}, {"c", "b", "a"}, {"b", "a", "c"}};
    for (int i = 0; i < 700; ++i)
        ++counts[pick(policy, instances.only(orders[i % orders.size()]))];
    QVERIFY2(qAbs(counts.value("a") - 500) <= 2, qPrintable(QString::number(counts.value("a"))));
    QVERIFY2(qAbs(counts.value("b") - 100) <= 2, qPrintable(QString::number(counts.value("b"))));
    QVERIFY2(qAbs(counts.value("c") - 100) <= 2, qPrintable(QString::number(counts.value("c"))));
}

void tst_LoadBalancer::roundRobinForgetsInstancesGoneForLong()
{
    // Instances replaced one generation after another (rolling deploys): the state of the
    // departed is dropped, not accumulated. With a horizon of 10 picks and 20 picks per
    // generation, at most the current and the previous generation are held.
    Instances instances;
    RoundRobinBalancer policy(/*forgetAfterPicks=*/10);
    for (int generation = 0; generation < 50; ++generation) {
        const QStringList keys{QStringLiteral("g%1-x").arg(generation),
                               QStringLiteral("g%1-y").arg(generation)};
        for (const QString &key : keys)
            instances.add(key, 1);
        const auto counts = countPicks(policy, instances.only(keys), 20);
        QCOMPARE(counts.value(keys[0]), 10);
        QCOMPARE(counts.value(keys[1]), 10);
        QVERIFY2(policy.trackedKeys() <= 4, qPrintable(QString::number(policy.trackedKeys())));
    }
}

void tst_LoadBalancer::leastInFlightAlwaysPicksTheLessLoadedOfTwo()
{
    Instances instances;
    FakeCandidate *a = instances.add("a", 100, 3);
    FakeCandidate *b = instances.add("b", 100, 1);
    LeastInFlightBalancer policy(11);
    QCOMPARE(countPicks(policy, instances.all(), 1000).value("b"), 1000);
    a->calls = 0;
    b->calls = 1;
    QCOMPARE(countPicks(policy, instances.all(), 1000).value("a"), 1000);
}

void tst_LoadBalancer::leastInFlightNeverPicksTheBusiestWhenOthersAreIdle()
{
    Instances instances;
    for (int i = 0; i < 10; ++i)
        instances.add(QStringLiteral("i%1").arg(i), 100, i == 4 ? 50 : 0);
    LeastInFlightBalancer policy(12);
    const auto counts = countPicks(policy, instances.all(), 10000);
    QCOMPARE(counts.value("i4"), 0);
    QCOMPARE(counts.size(), 9); // every idle one gets calls
}

void tst_LoadBalancer::leastInFlightComparesLoadPerUnitOfWeight()
{
    Instances instances;
    FakeCandidate *big = instances.add("big", 300, 2);
    FakeCandidate *small = instances.add("small", 100, 1);
    LeastInFlightBalancer policy(13);
    // 2/300 < 1/100: the heavy one has more calls but less load for its size.
    QCOMPARE(countPicks(policy, instances.all(), 500).value("big"), 500);
    // 4/300 > 1/100.
    big->calls = 4;
    QCOMPARE(countPicks(policy, instances.all(), 500).value("small"), 500);
    // 3/300 == 1/100: the tie goes to the heavier.
    big->calls = 3;
    QCOMPARE(countPicks(policy, instances.all(), 500).value("big"), 500);
    // Both idle: the heavier too.
    big->calls = 0;
    small->calls = 0;
    QCOMPARE(countPicks(policy, instances.all(), 500).value("big"), 500);
}

void tst_LoadBalancer::leastInFlightSpreadsOverIdleEqualCandidates()
{
    // Equal weights and loads: the first drawn wins, so the spread is uniform. Expected 2500
    // each of 10000; +-10 % is over 8 standard deviations (sd ~ 43), and the seed is fixed.
    Instances instances;
    for (int i = 0; i < 4; ++i)
        instances.add(QStringLiteral("i%1").arg(i));
    LeastInFlightBalancer policy(14);
    const auto counts = countPicks(policy, instances.all(), 10000);
    for (int i = 0; i < 4; ++i) {
        const int got = counts.value(QStringLiteral("i%1").arg(i));
        QVERIFY2(got > 2250 && got < 2750, qPrintable(QString::number(got)));
    }
}

void tst_LoadBalancer::consistentHashIsXxHash64_data()
{
    // Every client must map a key to the same instance, so the hash is a published one and
    // these are its reference values (XXH64).
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<quint64>("seed");
    QTest::addColumn<quint64>("expected");
    QTest::newRow("empty") << QByteArray() << quint64(0) << quint64(0xEF46DB3751D8E999ULL);
    QTest::newRow("empty, seed 1") << QByteArray() << quint64(1) << quint64(0xD5AFBA1336A3BE4BULL);
    QTest::newRow("1 byte") << QByteArray("a") << quint64(0) << quint64(0xD24EC4F1A98C6E5BULL);
    QTest::newRow("3 bytes") << QByteArray("abc") << quint64(0) << quint64(0x44BC2CF5AD770999ULL);
    QTest::newRow("4 bytes") << QByteArray("asdf") << quint64(0) << quint64(0x415872F599CEA71EULL);
    QTest::newRow("16 bytes") << QByteArray("Call me Ishmael.") << quint64(0)
                              << quint64(0x6D04390FC9D61A90ULL);
    QTest::newRow("39 bytes") << QByteArray("Nobody inspects the spammish repetition") << quint64(0)
                              << quint64(0xFBCEA83C8A378BF1ULL);
    QTest::newRow("46 bytes") << QByteArray("Some years ago--never mind how long precisely-")
                              << quint64(0) << quint64(0x8F26F2B986AFDC52ULL);
}

void tst_LoadBalancer::consistentHashIsXxHash64()
{
    QFETCH(QByteArray, bytes);
    QFETCH(quint64, seed);
    QFETCH(quint64, expected);
    QCOMPARE(QByteArray::number(ConsistentHashBalancer::hash(bytes, seed), 16),
             QByteArray::number(expected, 16));
}

void tst_LoadBalancer::consistentHashSendsAKeyToTheSameInstanceEveryTime()
{
    Instances instances;
    for (int i = 0; i < 5; ++i)
        instances.add(QStringLiteral("10.0.0.%1:4567").arg(i + 1));
    ConsistentHashBalancer policy;
    const QStringList first = owners(policy, instances.all(), 1000);
    QCOMPARE(owners(policy, instances.all(), 1000), first);

    // Another list order (another client, or the same one after a refresh) and a policy of
    // its own: the same instance for each key.
    QList<Candidate *> reversed = instances.all();
    std::reverse(reversed.begin(), reversed.end());
    ConsistentHashBalancer another;
    QCOMPARE(owners(another, reversed, 1000), first);
    QCOMPARE(owners(policy, reversed, 1000), first);

    // Weights (warm-up) do not move keys.
    static_cast<FakeCandidate *>(instances.all().first())->weight = 1;
    QCOMPARE(owners(policy, instances.all(), 1000), first);
}

void tst_LoadBalancer::consistentHashMovesAboutASixthOfKeysOnlyToAJoiningInstance()
{
    // Expected moved share 1/6 ~ 0.167 (the newcomer's share of the ring). With 160 points
    // per instance its arc has a standard deviation of about 0.167/sqrt(160) ~ 0.013, so
    // [0.10, 0.25] is over 5 deviations each side; the hash and keys are fixed, so the
    // outcome is the same on every run.
    const int keys = 10000;
    Instances instances;
    for (int i = 0; i < 6; ++i)
        instances.add(QStringLiteral("10.0.0.%1:4567").arg(i + 1));
    const QString newcomer = QStringLiteral("10.0.0.6:4567");
    QList<Candidate *> five = instances.all();
    five.removeLast();

    ConsistentHashBalancer policy;
    const QStringList before = owners(policy, five, keys);
    const QStringList after = owners(policy, instances.all(), keys);
    int moved = 0;
    for (int i = 0; i < keys; ++i) {
        if (after[i] != before[i]) {
            ++moved;
            QVERIFY2(after[i] == newcomer,
                     qPrintable(QStringLiteral("%1 moved %2 -> %3").arg(i).arg(before[i], after[i])));
        }
    }
    const double share = double(moved) / keys;
    QVERIFY2(share >= 0.10 && share <= 0.25, qPrintable(QString::number(share)));
}

void tst_LoadBalancer::consistentHashMovesOnlyTheKeysOfALeavingInstance()
{
    const int keys = 10000;
    Instances instances;
    for (int i = 0; i < 5; ++i)
        instances.add(QStringLiteral("10.0.0.%1:4567").arg(i + 1));
    const QString leaving = QStringLiteral("10.0.0.3:4567");
    QList<Candidate *> four = instances.all();
    four.removeAt(2);

    ConsistentHashBalancer policy;
    const QStringList before = owners(policy, instances.all(), keys);
    const QStringList after = owners(policy, four, keys);
    int moved = 0;
    for (int i = 0; i < keys; ++i) {
        if (before[i] == leaving) {
            ++moved;
            QVERIFY(after[i] != leaving);
        } else {
            QCOMPARE(after[i], before[i]);
        }
    }
    QVERIFY(moved > 0);
    // And back: the ring is a function of the set, so every key returns home.
    QCOMPARE(owners(policy, instances.all(), keys), before);
}

void tst_LoadBalancer::consistentHashSpreadsKeysEvenly()
{
    // 2000 keys per instance expected; with 160 points each the spread is about +-8 % (one
    // deviation); +-40 % (1200..2800) leaves room for 5 deviations.
    const int keys = 10000;
    Instances instances;
    for (int i = 0; i < 5; ++i)
        instances.add(QStringLiteral("10.0.0.%1:4567").arg(i + 1));
    ConsistentHashBalancer policy;
    QHash<QString, int> counts;
    for (const QString &owner : owners(policy, instances.all(), keys))
        ++counts[owner];
    QCOMPARE(counts.size(), 5);
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        QVERIFY2(it.value() >= 1200 && it.value() <= 2800,
                 qPrintable(QStringLiteral("%1: %2").arg(it.key()).arg(it.value())));
}

void tst_LoadBalancer::consistentHashKeepsItsRingWhenCallsLeaveInstancesOut()
{
    // Failover leaves out the instances a call already tried, and an open circuit its
    // instance: lists of subsets interleave with the full list. Each must map keys as the ring
    // of that subset does, without rebuilding the ring.
    Instances instances;
    for (int i = 0; i < 5; ++i)
        instances.add(QStringLiteral("10.0.0.%1:4567").arg(i + 1));
    const QList<Candidate *> all = instances.all();
    ConsistentHashBalancer policy;
    for (int i = 0; i < 1000; ++i) {
        QList<Candidate *> list = all;
        if (i % 2)
            list.removeAt(i % 5);
        policy.select(list, CallInfo{userKey(i)});
    }
    QCOMPARE(policy.ringBuilds(), quint64(1));

    for (int left = 0; left < 5; ++left) {
        QList<Candidate *> subset = all;
        subset.removeAt(left);
        ConsistentHashBalancer fresh;
        // 800 selects: within the horizon (1000), so the absent instance stays on the ring.
        QCOMPARE(owners(policy, subset, 800), owners(fresh, subset, 800));
        QCOMPARE(owners(policy, all, 800), owners(fresh, all, 800));
    }
    QCOMPARE(policy.ringBuilds(), quint64(1));
}

void tst_LoadBalancer::consistentHashForgetsInstancesGoneForLong()
{
    // Rolling deploys replace instances one generation after another: the ring keeps the
    // previous generation for the horizon (100 selects here), then drops it.
    Instances instances;
    ConsistentHashBalancer policy(160, std::nullopt, /*forgetAfterSelects=*/100);
    for (int generation = 0; generation < 20; ++generation) {
        const QStringList keys{QStringLiteral("g%1-x").arg(generation),
                               QStringLiteral("g%1-y").arg(generation)};
        for (const QString &key : keys)
            instances.add(key);
        const QList<Candidate *> list = instances.only(keys);
        for (int i = 0; i < 50; ++i)
            QVERIFY(keys.contains(pick(policy, list, userKey(i))));
        QVERIFY2(policy.ringInstances() <= 4, qPrintable(QString::number(policy.ringInstances())));
        for (int i = 50; i < 200; ++i)
            QVERIFY(keys.contains(pick(policy, list, userKey(i))));
        QCOMPARE(policy.ringInstances(), qsizetype(2));
    }
}

void tst_LoadBalancer::consistentHashWithoutAKeyPicksAnyInstanceByWeight()
{
    Instances instances;
    instances.add("a", 100);
    instances.add("b", 300);
    ConsistentHashBalancer policy(160, 15);
    const auto counts = countPicks(policy, instances.all(), 4000); // empty hash keys
    // Expected 1000 and 3000; sd ~ 27, so +-200 is over 7 deviations (and the seed is fixed).
    QVERIFY2(qAbs(counts.value("a") - 1000) < 200, qPrintable(QString::number(counts.value("a"))));
    QVERIFY2(qAbs(counts.value("b") - 3000) < 200, qPrintable(QString::number(counts.value("b"))));
}

void tst_LoadBalancer::everyPolicyStaysConsistentUnderConcurrentSelects_data()
{
    // Seeded policies draw from one generator behind a lock, unseeded ones from a generator
    // per thread: both paths are exercised.
    QTest::addColumn<QString>("policy");
    QTest::addColumn<bool>("seeded");
    for (const QString &name : LoadBalancer::names()) {
        QTest::addRow("%s", qPrintable(name)) << name << false;
        if (name != u"round-robin")
            QTest::addRow("%s, seeded", qPrintable(name)) << name << true;
    }
}

void tst_LoadBalancer::everyPolicyStaysConsistentUnderConcurrentSelects()
{
    // 4 threads x 10000 selects on one policy. Two threads see all five instances, two see
    // four (as when a circuit flaps), so the policies' per-key state is realigned while
    // others read it; loads change under them. Run it under the sanitizer build too.
    QFETCH(QString, policy);
    QFETCH(bool, seeded);
    const auto balancer = seeded ? seededPolicy(policy, 16) : LoadBalancer::create(policy);
    Instances instances;
    for (int i = 0; i < 5; ++i)
        instances.add(QStringLiteral("10.0.0.%1:4567").arg(i + 1), 50 * (i + 1));
    const QList<Candidate *> five = instances.all();
    const QList<Candidate *> four = five.mid(1);

    const int threads = 4;
    const int selects = 10000;
    std::atomic<int> outOfRange{0};
    std::atomic<int> done{0};
    std::vector<std::unique_ptr<QThread>> workers;
    for (int t = 0; t < threads; ++t) {
        LoadBalancer *target = balancer.get();
        workers.emplace_back(QThread::create([&, t, target] {
            for (int i = 0; i < selects; ++i) {
                const QList<Candidate *> &list = (i + t) % 3 ? five : four;
                const qsizetype index = target->select(list, CallInfo{i % 4 ? userKey(i) : QByteArray()});
                if (index < 0 || index >= list.size()) {
                    ++outOfRange;
                    continue;
                }
                auto *chosen = static_cast<FakeCandidate *>(list[index]);
                ++chosen->calls;
                target->feedback(*chosen, Tomato::Outcome::Success, std::chrono::microseconds(10));
                --chosen->calls;
                ++done;
            }
        }));
        workers.back()->start();
    }
    for (const auto &worker : workers)
        QVERIFY(worker->wait(QDeadlineTimer(120000)));
    QCOMPARE(outOfRange.load(), 0);
    QCOMPARE(done.load(), threads * selects);
    for (const Candidate *candidate : five)
        QCOMPARE(candidate->inFlight(), 0);
}

QTEST_GUILESS_MAIN(tst_LoadBalancer)
#include "tst_loadbalancer.moc"

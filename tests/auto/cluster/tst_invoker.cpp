// SPDX-License-Identifier: Apache-2.0
// An invoker on its own (docs/CLUSTER.md#invokers): weight with warm-up and overrides,
// back-off after failed connects, draining after ShuttingDown, the breaker's say, statistics.
// Time, steady and wall, is injected: nothing sleeps.
#include <tomato/client/invoker_p.h>

#include <QtTest/QTest>

using namespace Tomato;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Fixture
{
    Clock::time_point now = Clock::time_point() + 1h;
    qint64 wallMs = 1'000'000'000;
    std::shared_ptr<InvokerSettings> settings = std::make_shared<InvokerSettings>();
    int released = 0;

    Fixture()
    {
        settings->now = [this] { return now; };
        settings->wallClockMs = [this] { return wallMs; };
        settings->circuit.window = 10;
        settings->circuit.minCalls = 5;
        settings->circuit.openRatePercent = 50;
        settings->circuit.openFor = 1000ms;
        settings->circuit.halfOpenCalls = 1;
    }

    std::shared_ptr<Invoker> make(int weight = 100, qint64 startTime = 0, int connections = 1)
    {
        InstanceInfo instance;
        instance.setHost(QStringLiteral("127.0.0.1"));
        instance.setPort(4567);
        instance.setMicroServiceId(QStringLiteral("svc"));
        instance.setStage(QStringLiteral("dev"));
        instance.setWeight(weight);
        instance.setStartTime(startTime);
        std::vector<std::shared_ptr<ClientSession>> sessions;
        for (int i = 0; i < connections; ++i) {
            ClientConnectionSettings s;
            s.endpoint = instance.endpoint();
            sessions.push_back(std::make_shared<ClientSession>(s));
        }
        return std::make_shared<Invoker>(instance, std::move(sessions), settings,
                                         [this](const std::vector<std::shared_ptr<ClientSession>> &) { ++released; });
    }
};

void endWith(Invoker &invoker, RpcError::Code code, std::chrono::microseconds latency = 100us)
{
    QVERIFY(invoker.begin());
    if (code == RpcError::Ok) {
        invoker.ended(nullptr, latency);
    } else {
        const RpcError e(code, QStringLiteral("test"));
        invoker.ended(&e, latency);
    }
}

} // namespace

class tst_Invoker : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void itsKeyIsTheAddressAndItsWeightTheRegisteredOne();
    void aYoungInstanceRampsUpOverTheWarmup();
    void anOverrideReplacesTheWeightOrDisablesIt();
    void failedConnectsBackOffExponentiallyWithJitterUpToTheCap();
    void aSuccessEndsTheBackoff();
    void callsFailingTogetherOnOneConnectBackOffOnce();
    void endingsThatSayNothingOfTheInstanceLeaveTheBreakerAlone();
    void shuttingDownDrainsItForAWhile();
    void anOpenCircuitMakesItUnusableUntilItIsProbed();
    void cancelledCallsSayNothingAboutTheInstance();
    void callsAreSpreadOverItsConnections();
    void statisticsCountCallsErrorsAndLatencies();
    void itsConnectionsAreReleasedWhenTheLastHolderGoes();
};

void tst_Invoker::itsKeyIsTheAddressAndItsWeightTheRegisteredOne()
{
    Fixture f;
    auto invoker = f.make(250);
    QCOMPARE(invoker->key(), QStringLiteral("127.0.0.1:4567"));
    QCOMPARE(invoker->effectiveWeight(), 250);
    QVERIFY(invoker->isUsable());
    QCOMPARE(invoker->stats().state, QStringLiteral("connecting"));
}

void tst_Invoker::aYoungInstanceRampsUpOverTheWarmup()
{
    Fixture f;
    f.settings->warmup = 30s;
    auto invoker = f.make(100, f.wallMs); // started just now
    QCOMPARE(invoker->effectiveWeight(), 1); // never 0
    f.wallMs += 3000;
    QCOMPARE(invoker->effectiveWeight(), 10);
    f.wallMs += 12000;
    QCOMPARE(invoker->effectiveWeight(), 50);
    f.wallMs += 15000;
    QCOMPARE(invoker->effectiveWeight(), 100);
    f.wallMs += 1000000;
    QCOMPARE(invoker->effectiveWeight(), 100);

    auto unknownStart = f.make(100, 0); // an older server, a static list: full weight
    QCOMPARE(unknownStart->effectiveWeight(), 100);
    f.settings->warmup = 0s;
    auto noWarmup = f.make(100, f.wallMs);
    QCOMPARE(noWarmup->effectiveWeight(), 100);
}

void tst_Invoker::anOverrideReplacesTheWeightOrDisablesIt()
{
    Fixture f;
    f.settings->warmup = 0s;
    auto invoker = f.make(100);
    InstanceOverride o;
    o.weight = 40;
    invoker->setOverride(o);
    QCOMPARE(invoker->effectiveWeight(), 40);
    QVERIFY(invoker->isUsable());
    o.disabled = true;
    invoker->setOverride(o);
    QVERIFY(!invoker->isUsable());
    QCOMPARE(invoker->stats().state, QStringLiteral("disabled"));
    invoker->setOverride(InstanceOverride());
    QCOMPARE(invoker->effectiveWeight(), 100);
    QVERIFY(invoker->isUsable());
}

void tst_Invoker::failedConnectsBackOffExponentiallyWithJitterUpToTheCap()
{
    Fixture f;
    f.settings->backoffMin = 100ms;
    f.settings->backoffMax = 1000ms;
    f.settings->circuit.enabled = false; // the breaker is not what is tested here
    auto invoker = f.make();
    // The n-th failure in a row waits min * 2^(n-1), capped, within +-20 %.
    const QList<int> expectedMs{100, 200, 400, 800, 1000, 1000};
    for (const int base : expectedMs) {
        endWith(*invoker, RpcError::ConnectFailed);
        QVERIFY(!invoker->isUsable());
        QCOMPARE(invoker->stats().state, QStringLiteral("backoff"));
        const auto start = f.now;
        f.now = start + std::chrono::milliseconds(base * 8 / 10 - 1);
        QVERIFY2(!invoker->isUsable(), qPrintable(QString::number(base)));
        f.now = start + std::chrono::milliseconds(base * 12 / 10 + 1);
        QVERIFY2(invoker->isUsable(), qPrintable(QString::number(base)));
    }
}

void tst_Invoker::aSuccessEndsTheBackoff()
{
    Fixture f;
    f.settings->circuit.enabled = false;
    auto invoker = f.make();
    for (int i = 0; i < 4; ++i) {
        endWith(*invoker, RpcError::ConnectFailed);
        f.now += 10s;
    }
    endWith(*invoker, RpcError::Ok);
    endWith(*invoker, RpcError::ConnectFailed); // the first failure of a new run
    f.now += 121ms;
    QVERIFY(invoker->isUsable());
}

// The calls queued behind one refused connect all end ConnectFailed at once: one failure for
// the back-off, not one per call.
void tst_Invoker::callsFailingTogetherOnOneConnectBackOffOnce()
{
    Fixture f;
    f.settings->backoffMin = 100ms;
    f.settings->backoffMax = 10000ms;
    f.settings->circuit.enabled = false;
    auto invoker = f.make();
    for (int i = 0; i < 20; ++i)
        QVERIFY(invoker->begin());
    const RpcError refused(RpcError::ConnectFailed, QStringLiteral("refused"));
    for (int i = 0; i < 20; ++i)
        invoker->ended(&refused, 10us);
    QVERIFY(!invoker->isUsable());
    f.now += 121ms; // the first failure's back-off, jitter included
    QVERIFY(invoker->isUsable());
    QCOMPARE(invoker->stats().errorsByCode.value(RpcError::ConnectFailed), quint64(20));
}

void tst_Invoker::endingsThatSayNothingOfTheInstanceLeaveTheBreakerAlone()
{
    Fixture f;
    auto invoker = f.make();
    for (int i = 0; i < 5; ++i)
        endWith(*invoker, RpcError::Timeout);
    f.now += 1000ms; // half-open, one trial
    const RpcError tooLarge(RpcError::RequestTooLarge, QStringLiteral("never sent"));
    for (int i = 0; i < 3; ++i) {
        QVERIFY(invoker->begin()); // the trial place...
        invoker->ended(&tooLarge, 1us, Invoker::Judge::NotSent); // ...given back, not a success
        QCOMPARE(invoker->stats().circuit, QStringLiteral("half-open"));
    }
    // An attempt cut short to leave time for a retry is no verdict either.
    const RpcError cut(RpcError::Timeout, QStringLiteral("its share ran out"));
    QVERIFY(invoker->begin());
    invoker->ended(&cut, 1000us, Invoker::Judge::Neutral);
    QCOMPARE(invoker->stats().circuit, QStringLiteral("half-open"));
    QCOMPARE(invoker->inFlight(), 0);
    endWith(*invoker, RpcError::Ok);
    QCOMPARE(invoker->stats().circuit, QStringLiteral("closed"));
    // Closed: cut-short timeouts never open it, whatever their number.
    for (int i = 0; i < 50; ++i) {
        QVERIFY(invoker->begin());
        invoker->ended(&cut, 1000us, Invoker::Judge::Neutral);
    }
    QCOMPARE(invoker->stats().circuit, QStringLiteral("closed"));
}

void tst_Invoker::shuttingDownDrainsItForAWhile()
{
    Fixture f;
    f.settings->drainingFor = 10s;
    f.settings->circuit.enabled = false;
    auto invoker = f.make();
    endWith(*invoker, RpcError::ShuttingDown);
    QVERIFY(!invoker->isUsable());
    QCOMPARE(invoker->stats().state, QStringLiteral("draining"));
    f.now += 9999ms;
    QVERIFY(!invoker->isUsable());
    f.now += 2ms;
    QVERIFY(invoker->isUsable());
}

void tst_Invoker::anOpenCircuitMakesItUnusableUntilItIsProbed()
{
    Fixture f;
    auto invoker = f.make();
    for (int i = 0; i < 5; ++i)
        endWith(*invoker, RpcError::Timeout);
    QVERIFY(!invoker->isUsable());
    QVERIFY(!invoker->begin());
    QCOMPARE(invoker->stats().circuit, QStringLiteral("open"));
    QCOMPARE(invoker->stats().state, QStringLiteral("open"));
    f.now += 1000ms;
    QVERIFY(invoker->isUsable());
    endWith(*invoker, RpcError::Ok); // the one trial
    QCOMPARE(invoker->stats().circuit, QStringLiteral("closed"));
    // Application errors are the method's, not the instance's: they never open it.
    for (int i = 0; i < 20; ++i)
        endWith(*invoker, RpcError::ApplicationException);
    QCOMPARE(invoker->stats().circuit, QStringLiteral("closed"));
}

void tst_Invoker::cancelledCallsSayNothingAboutTheInstance()
{
    Fixture f;
    auto invoker = f.make();
    for (int i = 0; i < 5; ++i)
        endWith(*invoker, RpcError::Timeout);
    f.now += 1000ms;
    QVERIFY(invoker->begin()); // the trial...
    const RpcError cancelled(RpcError::Cancelled, QStringLiteral("by the caller"));
    invoker->ended(&cancelled, 10us); // ...cancelled: its place comes back
    QCOMPARE(invoker->stats().circuit, QStringLiteral("half-open"));
    QVERIFY(invoker->begin());
    QCOMPARE(invoker->inFlight(), 1);
}

void tst_Invoker::callsAreSpreadOverItsConnections()
{
    Fixture f;
    auto invoker = f.make(100, 0, 3);
    QSet<ClientSession *> used;
    for (int i = 0; i < 6; ++i)
        used.insert(invoker->begin().get());
    QCOMPARE(used.size(), 3);
    QCOMPARE(invoker->inFlight(), 6);
}

void tst_Invoker::statisticsCountCallsErrorsAndLatencies()
{
    Fixture f;
    f.settings->circuit.enabled = false;
    auto invoker = f.make();
    for (int i = 1; i <= 100; ++i)
        endWith(*invoker, RpcError::Ok, std::chrono::microseconds(i));
    endWith(*invoker, RpcError::Timeout);
    endWith(*invoker, RpcError::Timeout);
    endWith(*invoker, RpcError::ApplicationException);
    QVERIFY(invoker->begin()); // one in flight
    const InvokerStats s = invoker->stats();
    QCOMPARE(s.calls, quint64(103));
    QCOMPARE(s.failures, quint64(3));
    QCOMPARE(s.errorsByCode.value(RpcError::Timeout), quint64(2));
    QCOMPARE(s.errorsByCode.value(RpcError::ApplicationException), quint64(1));
    QCOMPARE(s.inFlight, 1);
    QCOMPARE(s.p50Us, qint64(51));
    QCOMPARE(s.p90Us, qint64(91));
    QCOMPARE(s.p99Us, qint64(100));
    QCOMPARE(s.maxUs, qint64(100));
    QVERIFY(s.lastError.startsWith(QLatin1String("ApplicationException")));
    QVERIFY(s.lastErrorAt.isValid());
    QCOMPARE(s.address, QStringLiteral("tcp://127.0.0.1:4567"));
    QCOMPARE(s.weight, 100);
}

void tst_Invoker::itsConnectionsAreReleasedWhenTheLastHolderGoes()
{
    Fixture f;
    auto invoker = f.make(100, 0, 2);
    std::weak_ptr<Invoker> weak = invoker;
    auto callInFlight = invoker; // what a call's completion holds
    invoker.reset();             // gone from the registry's list
    QCOMPARE(f.released, 0);
    callInFlight.reset();        // the last call ended
    QCOMPARE(f.released, 1);
    QVERIFY(weak.expired());
}

QTEST_MAIN(tst_Invoker)
#include "tst_invoker.moc"

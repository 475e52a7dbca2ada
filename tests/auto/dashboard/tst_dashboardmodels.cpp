// SPDX-License-Identifier: Apache-2.0
// The dashboard's models fed with registry entries directly (no ZooKeeper: tests/integration/
// tst_dashboard.cpp does that): every change is the smallest row signal that says it, rows
// stay sorted by stage, group and address, the section headings' data follows, and the
// derived values (mixed deployments, warm-up, disabled) are right.
#include <dashboard/clusterview.h>
#include <dashboard/consumermodel.h>
#include <dashboard/healthpoller.h>
#include <dashboard/invokermodel.h>
#include <dashboard/servicelistmodel.h>

#include <QtCore/QDateTime>
#include <QtTest/QSignalSpy>
#include <QtTest/QtTest>

using namespace Tomato;

namespace {

InstanceInfo instance(const QString &service, const QString &stage, const QString &group, quint16 port,
                      const QString &hash = QStringLiteral("aaaa"), qint64 startTime = 1)
{
    InstanceInfo i;
    i.setHost(QStringLiteral("10.0.0.1"));
    i.setPort(port);
    i.setMicroServiceId(service);
    i.setStage(stage);
    i.setGroup(group);
    i.setInterfaces(hash);
    i.setStartTime(startTime);
    return i;
}

RegistryServiceEntry entry(const QString &service, const QString &stage, const QList<InstanceInfo> &providers,
                           const InstanceOverrides &overrides = {})
{
    RegistryServiceEntry e;
    e.microServiceId = service;
    e.stage = stage;
    e.providers = providers;
    e.overrides = overrides;
    return e;
}

QStringList column(const QAbstractItemModel &model, const QByteArray &role)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row)
        out.append(model.index(row, 0).data(model.roleNames().key(role)).toString());
    return out;
}

QVariant cell(const QAbstractItemModel &model, int row, const QByteArray &role)
{
    return model.index(row, 0).data(model.roleNames().key(role));
}

const QString Demo = QStringLiteral("demo");

// A statistics page (docs/STATUS.md#statistics) with one method per entry of `buckets`: its
// latency buckets (17: the 16 bounds and +Inf), and `errors` of its calls Timeout.
QVariantMap statistics(const QList<QList<int>> &buckets, const QList<int> &errors = {}, int inFlight = 0)
{
    QVariantList methods;
    for (qsizetype m = 0; m < buckets.size(); ++m) {
        QVariantList counts;
        int calls = 0;
        for (int i = 0; i < 17; ++i) {
            counts.append(buckets[m].value(i));
            calls += buckets[m].value(i);
        }
        const int failed = errors.value(m);
        methods.append(QVariantMap{{QStringLiteral("service"), QStringLiteral("S")},
                                   {QStringLiteral("method"), QStringLiteral("m%1").arg(m)},
                                   {QStringLiteral("calls"), calls},
                                   {QStringLiteral("errors"), failed},
                                   {QStringLiteral("byCode"), QVariantMap{{QStringLiteral("Ok"), calls - failed},
                                                                          {QStringLiteral("Timeout"), failed}}},
                                   {QStringLiteral("latencyBuckets"), counts}});
    }
    return QVariantMap{{QStringLiteral("methods"), methods},
                       {QStringLiteral("callsInFlight"), inFlight},
                       {QStringLiteral("latencyBoundsMs"),
                        QVariantList{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}}};
}

} // namespace

class tst_DashboardModels : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void invokersAreSortedByStageGroupAndAddressAndChangeRowByRow();
    void sectionsCountEachGroupAndStage();
    void aHashOtherThanMostInstancesIsAMixedDeployment();
    void overridesWarmUpAndDisablingShapeTheWeightAndState();
    void servicesComeAndGoAndFilter();
    void consumersComeAndGo();
    void healthIsTheDifferenceBetweenTwoAnswers_data();
    void healthIsTheDifferenceBetweenTwoAnswers();
    void errorsAreCountedByMethodAndCode();
};

void tst_DashboardModels::invokersAreSortedByStageGroupAndAddressAndChangeRowByRow()
{
    ClusterView cluster;
    InvokerModel model(&cluster, nullptr);
    model.setMicroServiceId(Demo);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);

    const InstanceInfo main1 = instance(Demo, QStringLiteral("dev"), QStringLiteral("main"), 2);
    const InstanceInfo main2 = instance(Demo, QStringLiteral("dev"), QStringLiteral("main"), 1);
    cluster.setEntry(entry(Demo, QStringLiteral("dev"), {main1, main2}));
    QCOMPARE(column(model, "port"), (QStringList{QStringLiteral("1"), QStringLiteral("2")}));
    QCOMPARE(inserted.count(), 2);

    // gray sorts before main, prod after dev; another service's entry is not ours.
    const InstanceInfo gray = instance(Demo, QStringLiteral("dev"), QStringLiteral("gray"), 9);
    cluster.setEntry(entry(Demo, QStringLiteral("dev"), {main1, main2, gray}));
    QCOMPARE(inserted.count(), 3);
    QCOMPARE(inserted.last().at(1).toInt(), 0);
    const InstanceInfo prod = instance(Demo, QStringLiteral("prod"), QStringLiteral("main"), 5);
    cluster.setEntry(entry(Demo, QStringLiteral("prod"), {prod}));
    QCOMPARE(inserted.last().at(1).toInt(), 3);
    cluster.setEntry(entry(QStringLiteral("other"), QStringLiteral("dev"), {instance(QStringLiteral("other"), QStringLiteral("dev"), QStringLiteral("main"), 7)}));
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(column(model, "section"), (QStringList{QStringLiteral("dev/gray"), QStringLiteral("dev/main"),
                                                    QStringLiteral("dev/main"), QStringLiteral("prod/main")}));

    // An override changes one row in place.
    changed.clear();
    cluster.setEntry(entry(Demo, QStringLiteral("dev"), {main1, main2, gray},
                           {{main1.address(), InstanceOverride{50, false}}}));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.last().at(0).toModelIndex().row(), 2);
    QCOMPARE(cell(model, 2, "overrideWeight").toInt(), 50);
    QCOMPARE(cell(model, 1, "overrideWeight").toInt(), -1);

    // One leaves: one removal, at its row; the same list again changes nothing.
    changed.clear();
    cluster.setEntry(entry(Demo, QStringLiteral("dev"), {main1, gray}, {{main1.address(), InstanceOverride{50, false}}}));
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.last().at(1).toInt(), 1);
    QCOMPARE(changed.count(), 0);

    // A restart on the same port (a new start time) is a new instance: out, then in.
    InstanceInfo restarted = prod;
    restarted.setStartTime(2);
    cluster.setEntry(entry(Demo, QStringLiteral("prod"), {restarted}));
    QCOMPARE(removed.count(), 2);
    QCOMPARE(inserted.count(), 5);
    QCOMPARE(cell(model, 2, "startedAt").toLongLong(), 2);

    // The stage goes: its rows go, one by one.
    cluster.removeEntry(Demo, QStringLiteral("prod"));
    QCOMPARE(removed.count(), 3);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(resets.count(), 0);

    // Another service is a reset: nothing of the last one is kept.
    model.setMicroServiceId(QStringLiteral("other"));
    QCOMPARE(resets.count(), 1);
    QCOMPARE(column(model, "port"), QStringList{QStringLiteral("7")});
}

void tst_DashboardModels::sectionsCountEachGroupAndStage()
{
    ClusterView cluster;
    InvokerModel model(&cluster, nullptr);
    model.setMicroServiceId(Demo);
    QSignalSpy sectionsChanged(&model, &InvokerModel::sectionsChanged);
    cluster.setEntry(entry(Demo, QStringLiteral("dev"),
                           {instance(Demo, QStringLiteral("dev"), QStringLiteral("main"), 1),
                            instance(Demo, QStringLiteral("dev"), QStringLiteral("main"), 2),
                            instance(Demo, QStringLiteral("dev"), QStringLiteral("gray"), 3)}));
    cluster.setEntry(entry(Demo, QStringLiteral("prod"), {instance(Demo, QStringLiteral("prod"), QStringLiteral("canary"), 4)}));
    const QVariantList sections = model.sections();
    QCOMPARE(sections.size(), 3);
    auto at = [&](int i, const char *key) { return sections[i].toMap().value(QLatin1String(key)); };
    QCOMPARE(at(0, "section").toString(), QStringLiteral("dev/gray"));
    QCOMPARE(at(0, "count").toInt(), 1);
    QCOMPARE(at(0, "firstInStage").toBool(), true);
    QCOMPARE(at(0, "stageCount").toInt(), 3);
    QCOMPARE(at(1, "section").toString(), QStringLiteral("dev/main"));
    QCOMPARE(at(1, "count").toInt(), 2);
    QCOMPARE(at(1, "firstInStage").toBool(), false);
    QCOMPARE(at(2, "stage").toString(), QStringLiteral("prod"));
    QCOMPARE(at(2, "group").toString(), QStringLiteral("canary"));
    QCOMPARE(at(2, "firstInStage").toBool(), true);
    QCOMPARE(at(2, "healthy").toInt(), 0); // nothing polled: unknown, not healthy
    const auto emitted = sectionsChanged.count();
    cluster.setEntry(entry(Demo, QStringLiteral("prod"), {instance(Demo, QStringLiteral("prod"), QStringLiteral("canary"), 4)}));
    QCOMPARE(sectionsChanged.count(), emitted); // nothing new: no signal
}

void tst_DashboardModels::aHashOtherThanMostInstancesIsAMixedDeployment()
{
    ClusterView cluster;
    InvokerModel model(&cluster, nullptr);
    ServiceListModel services(&cluster, nullptr);
    model.setMicroServiceId(Demo);
    cluster.setEntry(entry(Demo, QStringLiteral("dev"),
                           {instance(Demo, QStringLiteral("dev"), QStringLiteral("main"), 1, QStringLiteral("aaaa")),
                            instance(Demo, QStringLiteral("dev"), QStringLiteral("main"), 2, QStringLiteral("aaaa"))}));
    QCOMPARE(column(model, "hashMismatch"), (QStringList{QStringLiteral("false"), QStringLiteral("false")}));
    QCOMPARE(cell(services, 0, "mixed").toBool(), false);
    // One instance of another build, in another stage: it alone is flagged.
    cluster.setEntry(entry(Demo, QStringLiteral("prod"), {instance(Demo, QStringLiteral("prod"), QStringLiteral("main"), 3, QStringLiteral("bbbb"))}));
    QCOMPARE(column(model, "hashMismatch"),
             (QStringList{QStringLiteral("false"), QStringLiteral("false"), QStringLiteral("true")}));
    QCOMPARE(cell(services, 0, "mixed").toBool(), true);
    QCOMPARE(cluster.majorityHash(Demo), QStringLiteral("aaaa"));
    // Once it is the only one left, nothing is mixed.
    cluster.removeEntry(Demo, QStringLiteral("dev"));
    QCOMPARE(column(model, "hashMismatch"), QStringList{QStringLiteral("false")});
    QCOMPARE(cell(services, 0, "mixed").toBool(), false);
}

void tst_DashboardModels::overridesWarmUpAndDisablingShapeTheWeightAndState()
{
    ClusterView cluster;
    InvokerModel model(&cluster, nullptr);
    model.setWarmupSeconds(30);
    model.setMicroServiceId(Demo);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    InstanceInfo young = instance(Demo, QStringLiteral("dev"), QStringLiteral("main"), 1, QStringLiteral("aaaa"), now - 15000);
    InstanceInfo old = instance(Demo, QStringLiteral("dev"), QStringLiteral("main"), 2, QStringLiteral("aaaa"), now - 3600000);
    InstanceInfo unknown = instance(Demo, QStringLiteral("dev"), QStringLiteral("main"), 3, QStringLiteral("aaaa"), 0);
    cluster.setEntry(entry(Demo, QStringLiteral("dev"), {young, old, unknown},
                           {{old.address(), InstanceOverride{300, true}}}));
    // Half way through its warm-up: half its weight (a second of slack for a slow machine).
    QVERIFY(qAbs(cell(model, 0, "warmupPercent").toInt() - 50) <= 4);
    QVERIFY(qAbs(cell(model, 0, "effectiveWeight").toInt() - 50) <= 4);
    QVERIFY(qAbs(cell(model, 0, "uptimeSeconds").toInt() - 15) <= 1);
    QCOMPARE(cell(model, 0, "state").toString(), QStringLiteral("unknown"));
    // Disabled by an override: no weight at all, whatever the override's weight says.
    QCOMPARE(cell(model, 1, "overrideWeight").toInt(), 300);
    QCOMPARE(cell(model, 1, "effectiveWeight").toInt(), 0);
    QCOMPARE(cell(model, 1, "state").toString(), QStringLiteral("disabled"));
    QVERIFY(cell(model, 1, "stateReason").toString().contains(QLatin1String("override")));
    QCOMPARE(cell(model, 1, "warmupPercent").toInt(), 100);
    // No start time: no warm-up known, and the uptime says so.
    QCOMPARE(cell(model, 2, "warmupPercent").toInt(), 100);
    QCOMPARE(cell(model, 2, "uptimeSeconds").toInt(), -1);
    QCOMPARE(cell(model, 2, "p99Ms").toDouble(), -1.0);
    // Time moves the warm-up: tick() says so for those roles only.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.tick();
    QCOMPARE(changed.count(), 1);
    const auto roles = changed.last().at(2).value<QList<int>>();
    QVERIFY(roles.contains(InvokerModel::WarmupPercentRole) && !roles.contains(InvokerModel::StateRole));
}

void tst_DashboardModels::servicesComeAndGoAndFilter()
{
    ClusterView cluster;
    ServiceListModel services(&cluster, nullptr);
    ServiceFilterModel filter;
    filter.setSourceModel(&services);
    QSignalSpy inserted(&services, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&services, &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(&services, &QAbstractItemModel::dataChanged);
    cluster.setEntry(entry(QStringLiteral("inventory"), QStringLiteral("prod"),
                           {instance(QStringLiteral("inventory"), QStringLiteral("prod"), QStringLiteral("main"), 1)}));
    cluster.setEntry(entry(QStringLiteral("billing"), QStringLiteral("prod"), {}));
    QCOMPARE(column(services, "serviceId"), (QStringList{QStringLiteral("billing"), QStringLiteral("inventory")}));
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(inserted.last().at(1).toInt(), 0);
    // A second stage of a known service: the row changes, no insert.
    cluster.setEntry(entry(QStringLiteral("inventory"), QStringLiteral("dev"),
                           {instance(QStringLiteral("inventory"), QStringLiteral("dev"), QStringLiteral("main"), 2)}));
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(changed.last().at(0).toModelIndex().row(), 1);
    QCOMPARE(cell(services, 1, "instances").toInt(), 2);
    QCOMPARE(cell(services, 1, "stages").toStringList(), (QStringList{QStringLiteral("dev"), QStringLiteral("prod")}));

    QSignalSpy counted(&filter, &ServiceFilterModel::countChanged);
    filter.setFilterText(QStringLiteral("INV"));
    QCOMPARE(filter.count(), 1);
    QCOMPARE(filter.serviceIdAt(0), QStringLiteral("inventory"));
    QVERIFY(counted.count() >= 1);
    filter.setFilterText(QString());
    QCOMPARE(filter.count(), 2);

    // A service whose last stage goes is a removed row.
    cluster.removeEntry(QStringLiteral("inventory"), QStringLiteral("dev"));
    QCOMPARE(removed.count(), 0);
    cluster.removeEntry(QStringLiteral("inventory"), QStringLiteral("prod"));
    QCOMPARE(removed.count(), 1);
    QCOMPARE(column(services, "serviceId"), QStringList{QStringLiteral("billing")});
}

void tst_DashboardModels::consumersComeAndGo()
{
    ClusterView cluster;
    ConsumerModel model(&cluster, nullptr);
    model.setMicroServiceId(Demo);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    ConsumerInfo a;
    a.microServiceId = Demo;
    a.stage = QStringLiteral("dev");
    a.group = QStringLiteral("main");
    a.host = QStringLiteral("h1");
    a.pid = 10;
    ConsumerInfo b = a;
    b.pid = 5;
    b.statusAddress = QStringLiteral("h1:8081");
    RegistryServiceEntry e = entry(Demo, QStringLiteral("dev"), {});
    e.consumers = {a, b};
    cluster.setEntry(e);
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(column(model, "pid"), (QStringList{QStringLiteral("5"), QStringLiteral("10")}));
    QCOMPARE(cell(model, 1, "breakerState").toString(), QStringLiteral("none"));
    QCOMPARE(cell(model, 0, "breakerState").toString(), QStringLiteral("unknown"));
    QCOMPARE(model.statusAddresses(), QStringList{QStringLiteral("h1:8081")});
    e.consumers = {a};
    cluster.setEntry(e);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.last().at(1).toInt(), 0);
    QCOMPARE(model.count(), 1);
}

void tst_DashboardModels::healthIsTheDifferenceBetweenTwoAnswers_data()
{
    QTest::addColumn<QVariantMap>("before");
    QTest::addColumn<QVariantMap>("after");
    QTest::addColumn<qint64>("elapsedMs");
    QTest::addColumn<bool>("gap");
    QTest::addColumn<double>("callsPerSecond");
    QTest::addColumn<double>("errorRate");
    QTest::addColumn<double>("p99Ms");
    const QVariantMap none = statistics({{}});
    // 100 calls between 0.5 and 1 ms: the 99th is 99 % of the way through that bucket.
    QTest::newRow("one bucket") << none << statistics({{0, 0, 0, 100}}) << qint64(2000) << false << 50.0 << 0.0 << 0.995;
    // Only the calls since the last answer count.
    QTest::newRow("differences") << statistics({{0, 0, 0, 100}}) << statistics({{0, 0, 0, 100, 0, 10}})
                                 << qint64(1000) << false << 10.0 << 0.0 << 2.5 + 2.5 * 0.99;
    QTest::newRow("errors") << none << statistics({{0, 100}}, {10}) << qint64(1000) << false << 100.0 << 0.1 << 0.1 + 0.15 * 0.99;
    // 99 fast calls and one slow: the 99th is the last fast one.
    QTest::newRow("an outlier") << none << statistics({{99, 0, 0, 0, 0, 1}}) << qint64(1000) << false << 100.0 << 0.0 << 0.1;
    // Past the last bound: the largest bound is all that can be said.
    QTest::newRow("+Inf") << none << statistics({{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}}) << qint64(1000) << false
                          << 5.0 << 0.0 << 10000.0;
    QTest::newRow("two methods add up") << none << statistics({{0, 0, 0, 50}, {0, 0, 0, 50}}) << qint64(1000) << false
                                        << 100.0 << 0.0 << 0.995;
    QTest::newRow("no calls") << statistics({{0, 5}}) << statistics({{0, 5}}) << qint64(1000) << false << 0.0 << 0.0 << -1.0;
    // Counters that went back: the instance restarted; nothing to compare.
    QTest::newRow("restarted") << statistics({{0, 50}}) << statistics({{0, 5}}) << qint64(1000) << true << 0.0 << 0.0 << -1.0;
    QTest::newRow("first answer") << QVariantMap() << statistics({{0, 5}}) << qint64(1000) << true << 0.0 << 0.0 << -1.0;
    QTest::newRow("no time passed") << none << statistics({{0, 5}}) << qint64(0) << true << 0.0 << 0.0 << -1.0;
}

void tst_DashboardModels::healthIsTheDifferenceBetweenTwoAnswers()
{
    QFETCH(QVariantMap, before);
    QFETCH(QVariantMap, after);
    QFETCH(qint64, elapsedMs);
    QFETCH(bool, gap);
    QFETCH(double, callsPerSecond);
    QFETCH(double, errorRate);
    QFETCH(double, p99Ms);
    after.insert(QStringLiteral("callsInFlight"), 3);
    const HealthSample s = HealthPoller::compare(before, 1000000, after, 1000000 + elapsedMs);
    QCOMPARE(s.gap, gap);
    QCOMPARE(s.at, 1000000 + elapsedMs);
    QCOMPARE(s.callsPerSecond, callsPerSecond);
    QCOMPARE(s.errorRate, errorRate);
    QVERIFY2(qAbs(s.p99Ms - p99Ms) < 1e-9, qPrintable(QString::number(s.p99Ms)));
    QCOMPARE(s.inFlight, gap ? 0 : 3);
}

void tst_DashboardModels::errorsAreCountedByMethodAndCode()
{
    const QList<HealthError> errors =
        HealthPoller::errorsBetween(statistics({{0, 10}, {0, 10}}, {1, 0}), statistics({{0, 20}, {0, 12}}, {4, 0}), 42);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors[0].method, QStringLiteral("S::m0"));
    QCOMPARE(errors[0].code, QStringLiteral("Timeout"));
    QCOMPARE(errors[0].count, quint64(3));
    QCOMPARE(errors[0].at, qint64(42));
    QVERIFY(HealthPoller::errorsBetween(statistics({{0, 10}}, {1}), statistics({{0, 10}}, {1}), 0).isEmpty());
}

QTEST_MAIN(tst_DashboardModels)
#include "tst_dashboardmodels.moc"

// SPDX-License-Identifier: Apache-2.0
// The ZooKeeper registry against a real ZooKeeper server (started here), checked with an
// independent reader: the ZooKeeper C client used directly, not our registry code.
#include "zookeeperreader.h"
#include "zookeeperserver.h"

#include <tomato/core/rpcerror.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QSignalSpy>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMutex>
#include <QtCore/QScopeGuard>
#include <QtTest/QTest>

#include <zookeeper/zookeeper.h>

#include <atomic>

using namespace Tomato;

namespace {

QAtomicInt s_emptyProtectionLogged;
QAtomicInt s_registrationRefused;
QAtomicInt s_watchingForAPath;
QMutex s_ignoredOverridesMutex;
QStringList s_ignoredOverrides; // warnings about malformed override nodes
QtMessageHandler s_previousHandler = nullptr;

QStringList ignoredOverrides()
{
    QMutexLocker lock(&s_ignoredOverridesMutex);
    return s_ignoredOverrides;
}

void watchMessages(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (message.contains(QLatin1String("empty protection keeps")))
        s_emptyProtectionLogged.storeRelease(1);
    if (message.contains(QLatin1String("registering")) && message.contains(QLatin1String("not authenticated")))
        s_registrationRefused.storeRelease(1);
    if (message.contains(QLatin1String("yet; watching for it")))
        s_watchingForAPath.storeRelease(1);
    if (message.contains(QLatin1String("ignoring the override"))) {
        QMutexLocker lock(&s_ignoredOverridesMutex);
        s_ignoredOverrides << message;
    }
    s_previousHandler(type, context, message);
}

InstanceInfo instance(quint16 port, const QString &stage = QStringLiteral("dev"),
                      const QString &group = QStringLiteral("main"))
{
    InstanceInfo i;
    i.setHost(QStringLiteral("127.0.0.1"));
    i.setPort(port);
    i.setMicroServiceId(QStringLiteral("demo/rpc service")); // '/' and ' ' must be encoded
    i.setStage(stage);
    i.setGroup(group);
    i.setInterfaces(QStringLiteral("abc123"));
    return i;
}

ConsumerInfo consumer(const QString &application = QStringLiteral("tomato-sample-client"))
{
    ConsumerInfo c;
    c.microServiceId = QStringLiteral("demo/rpc service");
    c.stage = QStringLiteral("dev");
    c.group = QStringLiteral("main");
    c.host = QStringLiteral("10.0.0.7");
    c.pid = 4242;
    c.version = QStringLiteral("1.2.0");
    c.statusAddress = QStringLiteral("10.0.0.7:9100");
    c.application = application;
    return c;
}

InstanceOverride makeOverride(std::optional<int> weight, bool disabled = false)
{
    InstanceOverride o;
    o.weight = weight;
    o.disabled = disabled;
    return o;
}

// "address weight=.. disabled" lines, sorted: comparable, and readable when a check fails.
QString describe(const InstanceOverrides &overrides)
{
    QStringList lines;
    for (auto it = overrides.cbegin(); it != overrides.cend(); ++it) {
        QString line = it.key();
        if (it->weight)
            line += QStringLiteral(" weight=%1").arg(*it->weight);
        if (it->disabled)
            line += QStringLiteral(" disabled");
        lines << line;
    }
    lines.sort();
    return lines.join(QLatin1String("; "));
}

const QString kService = QStringLiteral("demo/rpc service");
const QString kStage = QStringLiteral("dev");

RpcConfig options(bool emptyProtection = true)
{
    RpcConfig c;
    c.setRegistrySessionTimeoutMs(4000);
    c.setEmptyProtection(emptyProtection);
    return c;
}

} // namespace

class tst_ZooKeeperRegistry : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void instanceUrisRoundTripAnyText();
    void registeringCreatesAnEphemeralNodeWithJsonData();
    void stoppingRemovesTheNodeAndUnregisteringToo();
    void aNewProviderReachesASubscriberWithinASecond();
    void stagesAreIsolated();
    void knownInstancesSurviveAZooKeeperOutage();
    void aSessionExpiryReRegistersAndReSubscribes();
    void emptyProtectionKeepsInstancesOnAnEmptyRead_data();
    void emptyProtectionKeepsInstancesOnAnEmptyRead();
    void aProviderRegistersOnceZooKeeperBecomesReachable();
    void withCredentialsOnlyTheirHoldersChangeOurNodesAndAnyoneReads();
    void aRegistryWithOtherCredentialsCannotRegisterThere();
    void aReaderWithoutCredentialsSeesAServiceThatAppearsLater();
    void theFactoryMakesRegistriesByScheme();
    void consumerUrisRoundTripAnyText();
    void anInstanceStartTimeTravelsInItsUriWhenKnown();
    void anInstanceVersionTravelsInItsUriAndData();
    void overrideJsonIsReadStrictly_data();
    void overrideJsonIsReadStrictly();
    void aConsumerNodeHoldsItsJsonWhileRegistered();
    void aConsumerNodeGoesWhenItsRegistryIsDestroyed();
    void aSessionExpiryReRegistersConsumersAndReWatchesOverrides();
    void anOverrideReachesAnotherSubscribedRegistryWithinASecond();
    void overridesWrittenBeforeTheSubscriptionAreRead();
    void aMalformedOverrideIsLoggedAndIgnoredWhileTheOthersStay();
    void withCredentialsConsumerAndOverrideNodesGetOurAcl();
    void browseReadsTheWholeTreeOnce();
    void aBrowseWaitsForTheSessionAndStoppingFailsIt();
    void aWatchedTreeSeesServicesAppearWithinASecond();
    void aWatchedTreeFollowsConsumersAndProviders();
    void aWatchedTreeSeesOverridesAndWritesReportTheirOutcome();
    void aWatchedTreeReportsDeletedStagesAndServices();
    void withoutTheCredentialsAWatchedTreeIsReadOnly();
    void aWatchedTreeOutlivesAZooKeeperRestart_data();
    void aWatchedTreeOutlivesAZooKeeperRestart();

private:
    std::unique_ptr<ZooKeeperServer> m_zk;
};

void tst_ZooKeeperRegistry::initTestCase()
{
    qRegisterMetaType<QList<Tomato::InstanceInfo>>();
    zoo_set_debug_level(ZooLogLevel(0));
    s_previousHandler = qInstallMessageHandler(watchMessages);
}

void tst_ZooKeeperRegistry::init()
{
    s_emptyProtectionLogged.storeRelease(0);
    s_registrationRefused.storeRelease(0);
    s_watchingForAPath.storeRelease(0);
    {
        QMutexLocker lock(&s_ignoredOverridesMutex);
        s_ignoredOverrides.clear();
    }
    // Tests of values alone need no server (and its seconds of start-up per data row).
    static const QByteArrayList valuesOnly = {"instanceUrisRoundTripAnyText", "consumerUrisRoundTripAnyText",
                                              "anInstanceStartTimeTravelsInItsUriWhenKnown",
                                              "anInstanceVersionTravelsInItsUriAndData",
                                              "overrideJsonIsReadStrictly"};
    if (valuesOnly.contains(QTest::currentTestFunction()))
        return;
    m_zk = std::make_unique<ZooKeeperServer>();
    QVERIFY2(m_zk->start(), qPrintable(m_zk->log()));
}

void tst_ZooKeeperRegistry::cleanup()
{
    m_zk.reset();
}

void tst_ZooKeeperRegistry::instanceUrisRoundTripAnyText()
{
    InstanceInfo i = instance(4567);
    i.setGroup(QStringLiteral("gr&ay=1/ü"));
    const auto back = InstanceInfo::fromNodeName(i.nodeName());
    QVERIFY(back);
    QCOMPARE(*back, i);
    QVERIFY(!i.nodeName().contains(QLatin1Char('/')));
    QVERIFY(i.toUri().startsWith(QLatin1String("tomato://127.0.0.1:4567/?micro-service-id=demo%2Frpc%20service&stage=dev")));
    QVERIFY(!InstanceInfo::fromUri(QStringLiteral("http://x:1/?micro-service-id=a&stage=b")));
    QVERIFY(!InstanceInfo::fromUri(QStringLiteral("tomato://x:1/?stage=b")));
}

void tst_ZooKeeperRegistry::registeringCreatesAnEphemeralNodeWithJsonData()
{
    ZooKeeperRegistry registry(m_zk->hosts(), options());
    QSignalSpy registered(&registry, &ZooKeeperRegistry::registered);
    const InstanceInfo me = instance(4567);
    registry.registerInstance(me);
    registry.start();
    QVERIFY(registered.wait(10000));

    ZooKeeperReader reader(m_zk->hosts());
    QVERIFY(reader.connected());
    QCOMPARE(reader.children(QStringLiteral("/tomato")), QStringList{QStringLiteral("demo%2Frpc%20service")});
    const QString providers = QStringLiteral("/tomato/demo%2Frpc%20service/dev/providers");
    QCOMPARE(providers, ZooKeeperRegistry::providersPath(me.microServiceId(), me.stage()));
    const QStringList nodes = reader.children(providers);
    QCOMPARE(nodes.size(), 1);
    QCOMPARE(nodes.first(), me.nodeName());
    const auto node = reader.node(providers + QLatin1Char('/') + nodes.first());
    QVERIFY(node);
    QVERIFY(node->second); // ephemeral
    const QJsonObject json = QJsonDocument::fromJson(node->first).object();
    QCOMPARE(json.value(QLatin1String("port")).toInt(), 4567);
    QCOMPARE(json.value(QLatin1String("group")).toString(), QStringLiteral("main"));
    QCOMPARE(json.value(QLatin1String("uri")).toString(), me.toUri());
    // Parents are persistent.
    QVERIFY(!reader.node(providers)->second);
}

void tst_ZooKeeperRegistry::stoppingRemovesTheNodeAndUnregisteringToo()
{
    ZooKeeperReader reader(m_zk->hosts());
    const InstanceInfo a = instance(1001);
    const InstanceInfo b = instance(1002);
    const QString providers = ZooKeeperRegistry::providersPath(a.microServiceId(), a.stage());
    ZooKeeperRegistry registry(m_zk->hosts(), options());
    QSignalSpy registered(&registry, &ZooKeeperRegistry::registered);
    registry.start();
    registry.registerInstance(a);
    registry.registerInstance(b);
    QTRY_COMPARE_WITH_TIMEOUT(reader.children(providers).size(), 2, 10000);
    registry.unregisterInstance(a);
    QTRY_COMPARE_WITH_TIMEOUT(reader.children(providers), QStringList{b.nodeName()}, 5000);
    registry.stop();
    QTRY_COMPARE_WITH_TIMEOUT(reader.children(providers), QStringList(), 5000);
}

void tst_ZooKeeperRegistry::aNewProviderReachesASubscriberWithinASecond()
{
    ZooKeeperRegistry subscriber(m_zk->hosts(), options());
    QSignalSpy changed(&subscriber, &ZooKeeperRegistry::instancesChanged);
    subscriber.start();
    subscriber.subscribe(QStringLiteral("demo/rpc service"), QStringLiteral("dev"));
    QVERIFY(changed.wait(10000)); // the first read: empty
    QVERIFY(subscriber.instances(QStringLiteral("demo/rpc service"), QStringLiteral("dev")).isEmpty());

    ZooKeeperRegistry provider(m_zk->hosts(), options());
    QSignalSpy registered(&provider, &ZooKeeperRegistry::registered);
    provider.start();
    const qsizetype before = changed.size();
    provider.registerInstance(instance(2001));
    QVERIFY(registered.wait(10000));
    // The subscriber may hear of the node while we wait for `registered`: count signals,
    // do not wait for a new one.
    QElapsedTimer seen;
    seen.start();
    QTRY_VERIFY_WITH_TIMEOUT(changed.size() > before, 1000);
    QVERIFY(seen.elapsed() < 1000);
    const auto list = changed.last().at(2).value<QList<InstanceInfo>>();
    QCOMPARE(list.size(), 1);
    QCOMPARE(list.first().port(), quint16(2001));
}

void tst_ZooKeeperRegistry::stagesAreIsolated()
{
    ZooKeeperRegistry provider(m_zk->hosts(), options());
    provider.start();
    provider.registerInstance(instance(3001, QStringLiteral("prod")));
    provider.registerInstance(instance(3002, QStringLiteral("dev")));
    ZooKeeperRegistry dev(m_zk->hosts(), options());
    dev.start();
    dev.subscribe(QStringLiteral("demo/rpc service"), QStringLiteral("dev"));
    QTRY_COMPARE_WITH_TIMEOUT(dev.instances(QStringLiteral("demo/rpc service"), QStringLiteral("dev")).size(), 1, 10000);
    QCOMPARE(dev.instances(QStringLiteral("demo/rpc service"), QStringLiteral("dev")).first().port(), quint16(3002));
}

void tst_ZooKeeperRegistry::knownInstancesSurviveAZooKeeperOutage()
{
    ZooKeeperRegistry provider(m_zk->hosts(), options());
    provider.start();
    provider.registerInstance(instance(4001));
    ZooKeeperRegistry subscriber(m_zk->hosts(), options());
    QSignalSpy connection(&subscriber, &ZooKeeperRegistry::connectedChanged);
    subscriber.start();
    subscriber.subscribe(QStringLiteral("demo/rpc service"), QStringLiteral("dev"));
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.instances(QStringLiteral("demo/rpc service"), QStringLiteral("dev")).size(), 1, 10000);
    m_zk->stop();
    QTRY_VERIFY_WITH_TIMEOUT(!subscriber.isConnected(), 10000);
    // A lost connection is not "no providers".
    QCOMPARE(subscriber.instances(QStringLiteral("demo/rpc service"), QStringLiteral("dev")).size(), 1);
}

void tst_ZooKeeperRegistry::aSessionExpiryReRegistersAndReSubscribes()
{
    ZooKeeperRegistry provider(m_zk->hosts(), options());
    provider.start();
    provider.registerInstance(instance(5001));
    ZooKeeperRegistry subscriber(m_zk->hosts(), options());
    subscriber.start();
    subscriber.subscribe(QStringLiteral("demo/rpc service"), QStringLiteral("dev"));
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.instances(QStringLiteral("demo/rpc service"), QStringLiteral("dev")).size(), 1, 10000);

    // The ensemble comes back with no memory of our sessions: they expire on reconnect.
    m_zk->stop();
    m_zk->wipe();
    QVERIFY2(m_zk->start(), qPrintable(m_zk->log()));
    ZooKeeperReader reader(m_zk->hosts());
    const QString providers = ZooKeeperRegistry::providersPath(QStringLiteral("demo/rpc service"), QStringLiteral("dev"));
    QTRY_COMPARE_WITH_TIMEOUT(reader.children(providers), QStringList{instance(5001).nodeName()}, 20000);

    // The subscriber re-armed its watch: a second provider shows up.
    ZooKeeperRegistry second(m_zk->hosts(), options());
    second.start();
    second.registerInstance(instance(5002));
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.instances(QStringLiteral("demo/rpc service"), QStringLiteral("dev")).size(), 2, 10000);
}

void tst_ZooKeeperRegistry::emptyProtectionKeepsInstancesOnAnEmptyRead_data()
{
    QTest::addColumn<bool>("protection");
    QTest::newRow("on") << true;
    QTest::newRow("off") << false;
}

void tst_ZooKeeperRegistry::emptyProtectionKeepsInstancesOnAnEmptyRead()
{
    QFETCH(bool, protection);
    ZooKeeperRegistry provider(m_zk->hosts(), options());
    provider.start();
    const InstanceInfo me = instance(6001);
    provider.registerInstance(me);
    ZooKeeperRegistry subscriber(m_zk->hosts(), options(protection));
    subscriber.start();
    subscriber.subscribe(me.microServiceId(), me.stage());
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.instances(me.microServiceId(), me.stage()).size(), 1, 10000);
    // Someone removes the node behind our back: a healthy read that lists nothing.
    ZooKeeperReader reader(m_zk->hosts());
    QVERIFY(reader.remove(ZooKeeperRegistry::instancePath(me)));
    if (protection) {
        // The registry says when it ignores an empty read; wait for that, then check.
        QTRY_VERIFY_WITH_TIMEOUT(s_emptyProtectionLogged.loadAcquire(), 10000);
        QCOMPARE(subscriber.instances(me.microServiceId(), me.stage()).size(), 1);
    } else {
        QTRY_COMPARE_WITH_TIMEOUT(subscriber.instances(me.microServiceId(), me.stage()).size(), 0, 10000);
    }
}

void tst_ZooKeeperRegistry::aProviderRegistersOnceZooKeeperBecomesReachable()
{
    m_zk->stop();
    ZooKeeperRegistry provider(m_zk->hosts(), options());
    QSignalSpy registered(&provider, &ZooKeeperRegistry::registered);
    provider.start();
    provider.registerInstance(instance(7001));
    QVERIFY(!provider.isConnected());
    QVERIFY(m_zk->start());
    QVERIFY(registered.wait(20000));
    ZooKeeperReader reader(m_zk->hosts());
    QCOMPARE(reader.children(ZooKeeperRegistry::providersPath(QStringLiteral("demo/rpc service"), QStringLiteral("dev"))).size(), 1);
}

void tst_ZooKeeperRegistry::withCredentialsOnlyTheirHoldersChangeOurNodesAndAnyoneReads()
{
    // The password holds ':' and '@', percent-encoded in the URI.
    const QString uri = QStringLiteral("zookeeper://tomato:s3cr%3At%40x@") + m_zk->hosts();
    ZooKeeperRegistry registry(uri, options());
    QSignalSpy registered(&registry, &ZooKeeperRegistry::registered);
    const InstanceInfo me = instance(4600);
    registry.registerInstance(me);
    registry.start();
    QVERIFY(registered.wait(10000));
    const QString providers = ZooKeeperRegistry::providersPath(me.microServiceId(), me.stage());
    const QString node = providers + QLatin1Char('/') + me.nodeName();

    ZooKeeperReader anyone(m_zk->hosts());
    QVERIFY(anyone.connected());
    // Anyone reads: the tree and the node's data.
    QCOMPARE(anyone.children(providers), QStringList{me.nodeName()});
    QVERIFY(anyone.node(node));
    // Nobody else writes: not the node, not its data, not a sibling, not a parent.
    QCOMPARE(anyone.removeCode(node), int(ZNOAUTH));
    QCOMPARE(anyone.setCode(node, "{}"), int(ZNOAUTH));
    QCOMPARE(anyone.createCode(providers + QLatin1String("/intruder")), int(ZNOAUTH));
    QCOMPARE(anyone.removeCode(providers), int(ZNOAUTH));
    // Every node we made carries that ACL: all rights for the credentials, reading for the world.
    for (const QString &path : {QStringLiteral("/tomato"), providers, node}) {
        const QStringList acl = anyone.acl(path);
        QCOMPARE(acl.size(), 2);
        QVERIFY2(acl.at(0).startsWith(QLatin1String("digest:tomato:")) && acl.at(0).endsWith(QLatin1String("=31")),
                 qPrintable(acl.join(QLatin1Char(' '))));
        QCOMPARE(acl.at(1), QStringLiteral("world:anyone=1"));
    }
    // The holder of the credentials may.
    ZooKeeperReader holder(m_zk->hosts(), "tomato:s3cr:t@x");
    QCOMPARE(holder.setCode(node, "{}"), int(ZOK));
}

void tst_ZooKeeperRegistry::aRegistryWithOtherCredentialsCannotRegisterThere()
{
    ZooKeeperRegistry owner(QStringLiteral("zookeeper://tomato:right@") + m_zk->hosts(), options());
    QSignalSpy ownerRegistered(&owner, &ZooKeeperRegistry::registered);
    owner.registerInstance(instance(4700));
    owner.start();
    QVERIFY(ownerRegistered.wait(10000));

    for (const QString &uri : {QStringLiteral("zookeeper://tomato:wrong@") + m_zk->hosts(), m_zk->hosts()}) {
        s_registrationRefused.storeRelease(0);
        ZooKeeperRegistry intruder(uri, options());
        QSignalSpy registered(&intruder, &ZooKeeperRegistry::registered);
        intruder.registerInstance(instance(4701));
        intruder.start();
        QTRY_VERIFY_WITH_TIMEOUT(s_registrationRefused.loadAcquire(), 10000);
        QCOMPARE(registered.size(), 0);
        ZooKeeperReader reader(m_zk->hosts());
        QCOMPARE(reader.children(ZooKeeperRegistry::providersPath(QStringLiteral("demo/rpc service"),
                                                                  QStringLiteral("dev"))),
                 QStringList{instance(4700).nodeName()});
    }
}

// The namespace belongs to credentials the subscriber does not hold, so it cannot create
// the service's path itself; the path appears only when the first provider registers.
void tst_ZooKeeperRegistry::aReaderWithoutCredentialsSeesAServiceThatAppearsLater()
{
    const QString uri = QStringLiteral("zookeeper://tomato:owner@") + m_zk->hosts();
    ZooKeeperRegistry owner(uri, options());
    QSignalSpy ownerRegistered(&owner, &ZooKeeperRegistry::registered);
    owner.registerInstance(instance(4800)); // makes /tomato, with its ACL
    owner.start();
    QVERIFY(ownerRegistered.wait(10000));

    QLoggingCategory::setFilterRules(QStringLiteral("tomato.registry.zookeeper.debug=true"));
    const auto quietAgain = qScopeGuard([] { QLoggingCategory::setFilterRules(QString()); });
    ZooKeeperRegistry subscriber(m_zk->hosts(), options());
    subscriber.start();
    subscriber.subscribe(QStringLiteral("later"), QStringLiteral("dev"));
    // It could not make the path (it may not write there) and found none.
    QTRY_VERIFY_WITH_TIMEOUT(s_watchingForAPath.loadAcquire(), 10000);
    ZooKeeperReader reader(m_zk->hosts());
    QVERIFY(!reader.node(ZooKeeperRegistry::providersPath(QStringLiteral("later"), QStringLiteral("dev"))));

    InstanceInfo later = instance(4801);
    later.setMicroServiceId(QStringLiteral("later"));
    ZooKeeperRegistry provider(uri, options());
    provider.registerInstance(later);
    provider.start();
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.instances(QStringLiteral("later"), QStringLiteral("dev")).size(), 1, 10000);
    QCOMPARE(subscriber.instances(QStringLiteral("later"), QStringLiteral("dev")).first().port(), quint16(4801));
}

void tst_ZooKeeperRegistry::theFactoryMakesRegistriesByScheme()
{
    RpcConfig config;
    config.setNameServiceUri(m_zk->hosts()); // no scheme: ZooKeeper, as in Tomato-RPC
    RegistryFactory plain;
    QCOMPARE(plain.schemes(), QStringList{QStringLiteral("static")});
    try {
        plain.create(config);
        QFAIL("a factory without the ZooKeeper backend made a ZooKeeper registry");
    } catch (const RpcError &e) {
        QCOMPARE(e.code(), RpcError::BadArguments);
        QVERIFY2(e.message().contains(QLatin1String("registerScheme")), qPrintable(e.message()));
    }
    RegistryFactory factory;
    ZooKeeperRegistry::registerScheme(factory);
    QCOMPARE(factory.schemes(), (QStringList{QStringLiteral("static"), QStringLiteral("zookeeper")}));
    QVERIFY(qobject_cast<ZooKeeperRegistry *>(factory.create(config).get()));
    config.setNameServiceUri(QStringLiteral("zookeeper://") + m_zk->hosts());
    QVERIFY(qobject_cast<ZooKeeperRegistry *>(factory.create(config).get()));
    config.setNameServiceUri(QStringLiteral("static://127.0.0.1:1,tls://127.0.0.1:2"));
    auto fixed = factory.create(config);
    QVERIFY(fixed && !qobject_cast<ZooKeeperRegistry *>(fixed.get()));
    const auto listed = fixed->instances(QStringLiteral("svc"), QStringLiteral("dev"));
    QCOMPARE(listed.size(), 2);
    QCOMPARE(listed.at(1).endpoint().toString(), QStringLiteral("tls://127.0.0.1:2"));
    config.setNameServiceUri(QString());
    QVERIFY(!factory.create(config));
    config.setNameServiceUri(QStringLiteral("etcd://127.0.0.1:2379"));
    try {
        factory.create(config);
        QFAIL("an unknown scheme made a registry");
    } catch (const RpcError &e) {
        QVERIFY2(e.message().contains(QLatin1String("etcd")) && e.message().contains(QLatin1String("static, zookeeper")),
                 qPrintable(e.message()));
    }
}

void tst_ZooKeeperRegistry::consumerUrisRoundTripAnyText()
{
    ConsumerInfo c = consumer(QStringLiteral("my app & co/ü?=%"));
    c.group = QStringLiteral("gr&ay=1/ü");
    QCOMPARE(c.toUri(), QStringLiteral("consumer://10.0.0.7/?micro-service-id=demo%2Frpc%20service&stage=dev"
                                       "&group=gr%26ay%3D1%2F%C3%BC&pid=4242&version=1.2.0&status=10.0.0.7%3A9100"
                                       "&application=my%20app%20%26%20co%2F%C3%BC%3F%3D%25"));
    const auto back = ConsumerInfo::fromNodeName(c.nodeName());
    QVERIFY(back);
    QCOMPARE(*back, c);
    QVERIFY(!c.nodeName().contains(QLatin1Char('/')));
    QCOMPARE(ConsumerInfo::fromUri(c.toUri()), std::optional<ConsumerInfo>(c));

    ConsumerInfo v6 = consumer(QString());
    v6.host = QStringLiteral("::1");
    v6.statusAddress.clear();
    v6.pid = 0;
    QVERIFY(v6.toUri().startsWith(QLatin1String("consumer://[::1]/?")));
    QCOMPARE(ConsumerInfo::fromUri(v6.toUri()), std::optional<ConsumerInfo>(v6));

    const QJsonObject json = QJsonDocument::fromJson(c.toJson()).object();
    QCOMPARE(json.value(QLatin1String("pid")).toInteger(), qint64(4242));
    QCOMPARE(json.value(QLatin1String("application")).toString(), c.application);
    QCOMPARE(json.value(QLatin1String("statusAddress")).toString(), c.statusAddress);
    QCOMPARE(json.value(QLatin1String("uri")).toString(), c.toUri());

    // Refused: another scheme, no host, no service, no stage.
    QVERIFY(!ConsumerInfo::fromUri(QStringLiteral("tomato://10.0.0.7:1/?micro-service-id=a&stage=b")));
    QVERIFY(!ConsumerInfo::fromUri(QStringLiteral("consumer:///?micro-service-id=a&stage=b")));
    QVERIFY(!ConsumerInfo::fromUri(QStringLiteral("consumer://h/?stage=b")));
    QVERIFY(!ConsumerInfo::fromUri(QStringLiteral("consumer://h/?micro-service-id=a")));
    // Informational fields are optional, and a malformed pid reads as unknown.
    const auto bare = ConsumerInfo::fromUri(QStringLiteral("consumer://h/?micro-service-id=a&stage=b&pid=x1"));
    QVERIFY(bare);
    QCOMPARE(bare->pid, qint64(0));
    QCOMPARE(bare->host, QStringLiteral("h"));
}

void tst_ZooKeeperRegistry::anInstanceStartTimeTravelsInItsUriWhenKnown()
{
    InstanceInfo i = instance(4567);
    QVERIFY(!i.toUri().contains(QLatin1String("start-time"))); // unknown: as an older server
    QCOMPARE(QJsonDocument::fromJson(i.toJson()).object().value(QLatin1String("startTime")).toInteger(), qint64(0));
    const qint64 started = 1764646849123; // 2025-12-02, in ms: more than 32 bits
    i.setStartTime(started);
    QVERIFY(i.toUri().endsWith(QLatin1String("&start-time=1764646849123")));
    const auto back = InstanceInfo::fromNodeName(i.nodeName());
    QVERIFY(back);
    QCOMPARE(back->startTime(), started);
    QCOMPARE(*back, i);
    QCOMPARE(QJsonDocument::fromJson(i.toJson()).object().value(QLatin1String("startTime")).toInteger(), started);
    // It takes part in equality: a restarted instance is another instance.
    InstanceInfo restarted = i;
    restarted.setStartTime(started + 1);
    QVERIFY(restarted != i);
    // A malformed or negative start time reads as unknown; the instance is kept.
    const QString base = instance(4567).toUri();
    for (const char *bad : {"&start-time=soon", "&start-time=-5", "&start-time=", "&start-time=1e12"}) {
        const auto parsed = InstanceInfo::fromUri(base + QLatin1String(bad));
        QVERIFY2(parsed, bad);
        QCOMPARE(parsed->startTime(), qint64(0));
    }
    QCOMPARE(InstanceInfo::fromUri(base)->startTime(), qint64(0));
}

void tst_ZooKeeperRegistry::anInstanceVersionTravelsInItsUriAndData()
{
    InstanceInfo i = instance(4567);
    QVERIFY(!i.toUri().contains(QLatin1String("version="))); // unknown: as a server before 0.1.0
    QCOMPARE(InstanceInfo::fromUri(i.toUri())->version(), QString());
    i.setVersion(QStringLiteral("0.1.0+local build"));
    QVERIFY(i.toUri().contains(QLatin1String("&version=0.1.0%2Blocal%20build")));
    const auto back = InstanceInfo::fromNodeName(i.nodeName());
    QVERIFY(back);
    QCOMPARE(back->version(), i.version());
    QCOMPARE(*back, i);
    QCOMPARE(QJsonDocument::fromJson(i.toJson()).object().value(QLatin1String("version")).toString(), i.version());
    InstanceInfo upgraded = i;
    upgraded.setVersion(QStringLiteral("0.2.0"));
    QVERIFY(upgraded != i);
}

void tst_ZooKeeperRegistry::overrideJsonIsReadStrictly_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<int>("weight"); // 0: none
    QTest::addColumn<bool>("disabled");
    QTest::addColumn<QString>("errorNames"); // a word the error text must hold
    QTest::newRow("weight and disabled") << QByteArray(R"({"weight": 50, "disabled": true})") << true << 50 << true << QString();
    QTest::newRow("weight only") << QByteArray(R"({"weight": 1000})") << true << 1000 << false << QString();
    QTest::newRow("lowest weight") << QByteArray(R"({"weight": 1})") << true << 1 << false << QString();
    QTest::newRow("weight written as 50.0") << QByteArray(R"({"weight": 50.0})") << true << 50 << false << QString();
    QTest::newRow("disabled only") << QByteArray(R"({"disabled": true})") << true << 0 << true << QString();
    QTest::newRow("enabled") << QByteArray(R"({"disabled": false})") << true << 0 << false << QString();
    QTest::newRow("empty object") << QByteArray("{}") << true << 0 << false << QString();
    QTest::newRow("unknown fields ignored") << QByteArray(R"({"weight": 7, "by": "ops", "note": [1]})") << true << 7 << false << QString();
    QTest::newRow("empty data") << QByteArray() << false << 0 << false << QStringLiteral("JSON");
    QTest::newRow("not JSON") << QByteArray("weight=50") << false << 0 << false << QStringLiteral("JSON");
    QTest::newRow("truncated") << QByteArray(R"({"weight": 5)") << false << 0 << false << QStringLiteral("JSON");
    QTest::newRow("an array") << QByteArray("[50]") << false << 0 << false << QStringLiteral("object");
    QTest::newRow("weight zero") << QByteArray(R"({"weight": 0})") << false << 0 << false << QStringLiteral("weight");
    QTest::newRow("weight over 1000") << QByteArray(R"({"weight": 1001})") << false << 0 << false << QStringLiteral("weight");
    QTest::newRow("negative weight") << QByteArray(R"({"weight": -5})") << false << 0 << false << QStringLiteral("weight");
    QTest::newRow("fractional weight") << QByteArray(R"({"weight": 2.5})") << false << 0 << false << QStringLiteral("weight");
    QTest::newRow("weight as text") << QByteArray(R"({"weight": "50"})") << false << 0 << false << QStringLiteral("weight");
    QTest::newRow("weight null") << QByteArray(R"({"weight": null})") << false << 0 << false << QStringLiteral("weight");
    QTest::newRow("disabled as text") << QByteArray(R"({"disabled": "yes"})") << false << 0 << false << QStringLiteral("disabled");
    QTest::newRow("disabled as number") << QByteArray(R"({"disabled": 1})") << false << 0 << false << QStringLiteral("disabled");
}

void tst_ZooKeeperRegistry::overrideJsonIsReadStrictly()
{
    QFETCH(QByteArray, json);
    QFETCH(bool, valid);
    QFETCH(int, weight);
    QFETCH(bool, disabled);
    QFETCH(QString, errorNames);
    QString error;
    const auto parsed = InstanceOverride::fromJson(json, &error);
    QCOMPARE(bool(parsed), valid);
    QVERIFY(!InstanceOverride::fromJson(json, nullptr) == !valid); // no error text wanted: fine too
    if (!valid) {
        QVERIFY2(error.contains(errorNames), qPrintable(error));
        return;
    }
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(parsed->weight, weight ? std::optional<int>(weight) : std::nullopt);
    QCOMPARE(parsed->disabled, disabled);
    // What toJson() writes reads back the same.
    QCOMPARE(InstanceOverride::fromJson(parsed->toJson(), nullptr), parsed);
}

void tst_ZooKeeperRegistry::aConsumerNodeHoldsItsJsonWhileRegistered()
{
    ZooKeeperReader reader(m_zk->hosts());
    const ConsumerInfo me = consumer();
    const QString consumers = ZooKeeperRegistry::consumersPath(me.microServiceId, me.stage);
    QCOMPARE(consumers, QStringLiteral("/tomato/demo%2Frpc%20service/dev/consumers"));
    QCOMPARE(ZooKeeperRegistry::consumerPath(me), consumers + QLatin1Char('/') + me.nodeName());

    ZooKeeperRegistry registry(m_zk->hosts(), options());
    QSignalSpy registered(&registry, &ZooKeeperRegistry::registered);
    registry.registerConsumer(me);
    registry.start();
    QVERIFY(registered.wait(10000));
    QCOMPARE(reader.children(consumers), QStringList{me.nodeName()});
    const auto node = reader.node(ZooKeeperRegistry::consumerPath(me));
    QVERIFY(node);
    QVERIFY(node->second); // ephemeral
    QVERIFY(!reader.node(consumers)->second);
    const QJsonObject json = QJsonDocument::fromJson(node->first).object();
    QCOMPARE(json.value(QLatin1String("host")).toString(), me.host);
    QCOMPARE(json.value(QLatin1String("pid")).toInteger(), me.pid);
    QCOMPARE(json.value(QLatin1String("microServiceId")).toString(), me.microServiceId);
    QCOMPARE(json.value(QLatin1String("stage")).toString(), me.stage);
    QCOMPARE(json.value(QLatin1String("group")).toString(), me.group);
    QCOMPARE(json.value(QLatin1String("version")).toString(), me.version);
    QCOMPARE(json.value(QLatin1String("statusAddress")).toString(), me.statusAddress);
    QCOMPARE(json.value(QLatin1String("application")).toString(), me.application);
    QCOMPARE(json.value(QLatin1String("uri")).toString(), me.toUri());
    // Consumers are not providers.
    QVERIFY(reader.children(ZooKeeperRegistry::providersPath(me.microServiceId, me.stage)).isEmpty());

    // Registered while connected: created at once; unregistered: gone.
    const ConsumerInfo other = consumer(QStringLiteral("another-app"));
    registry.registerConsumer(other);
    QTRY_COMPARE_WITH_TIMEOUT(reader.children(consumers).size(), 2, 10000);
    registry.unregisterConsumer(me);
    QTRY_COMPARE_WITH_TIMEOUT(reader.children(consumers), QStringList{other.nodeName()}, 5000);
    // Stopping closes the session, and the ephemeral node goes with it.
    registry.stop();
    QTRY_COMPARE_WITH_TIMEOUT(reader.children(consumers), QStringList(), 5000);
}

void tst_ZooKeeperRegistry::aConsumerNodeGoesWhenItsRegistryIsDestroyed()
{
    ZooKeeperReader reader(m_zk->hosts());
    const ConsumerInfo me = consumer();
    {
        ZooKeeperRegistry registry(m_zk->hosts(), options());
        registry.start();
        registry.registerConsumer(me);
        QTRY_VERIFY_WITH_TIMEOUT(reader.node(ZooKeeperRegistry::consumerPath(me)), 10000);
    }
    // Well before the session timeout (4 s): the session was closed, not abandoned.
    QTRY_VERIFY_WITH_TIMEOUT(!reader.node(ZooKeeperRegistry::consumerPath(me)), 2000);
}

void tst_ZooKeeperRegistry::aSessionExpiryReRegistersConsumersAndReWatchesOverrides()
{
    const ConsumerInfo me = consumer();
    ZooKeeperRegistry client(m_zk->hosts(), options());
    client.start();
    client.registerConsumer(me);
    client.subscribe(kService, kStage);
    ZooKeeperRegistry operatorRegistry(m_zk->hosts(), options());
    operatorRegistry.start();
    operatorRegistry.setOverride(kService, kStage, QStringLiteral("127.0.0.1:5001"), makeOverride(20));
    QTRY_COMPARE_WITH_TIMEOUT(describe(client.overrides(kService, kStage)), QStringLiteral("127.0.0.1:5001 weight=20"), 10000);
    {
        ZooKeeperReader reader(m_zk->hosts());
        QTRY_VERIFY_WITH_TIMEOUT(reader.node(ZooKeeperRegistry::consumerPath(me)), 10000);
    }

    // The ensemble comes back with no memory of our sessions (nor of the override).
    m_zk->stop();
    m_zk->wipe();
    QVERIFY2(m_zk->start(), qPrintable(m_zk->log()));
    ZooKeeperReader reader(m_zk->hosts());
    const QString consumers = ZooKeeperRegistry::consumersPath(kService, kStage);
    QTRY_COMPARE_WITH_TIMEOUT(reader.children(consumers), QStringList{me.nodeName()}, 20000);
    QVERIFY(reader.node(ZooKeeperRegistry::consumerPath(me))->second);
    // A healthy read in the new session finds no override: the instance has its own weight again.
    QTRY_COMPARE_WITH_TIMEOUT(describe(client.overrides(kService, kStage)), QString(), 20000);

    // The watch was re-armed: a new override reaches the client.
    QTRY_VERIFY_WITH_TIMEOUT(operatorRegistry.isConnected(), 20000);
    operatorRegistry.setOverride(kService, kStage, QStringLiteral("127.0.0.1:5001"), makeOverride(std::nullopt, true));
    QTRY_COMPARE_WITH_TIMEOUT(describe(client.overrides(kService, kStage)), QStringLiteral("127.0.0.1:5001 disabled"), 10000);
}

void tst_ZooKeeperRegistry::anOverrideReachesAnotherSubscribedRegistryWithinASecond()
{
    const QString address = QStringLiteral("127.0.0.1:6001");
    ZooKeeperRegistry client(m_zk->hosts(), options());
    QSignalSpy changed(&client, &ZooKeeperRegistry::overridesChanged);
    QSignalSpy instances(&client, &ZooKeeperRegistry::instancesChanged);
    client.start();
    client.subscribe(kService, kStage);
    QVERIFY(instances.wait(10000)); // subscribed and read
    QVERIFY(client.overrides(kService, kStage).isEmpty());

    ZooKeeperRegistry operatorRegistry(m_zk->hosts(), options());
    operatorRegistry.start();
    QTRY_VERIFY_WITH_TIMEOUT(operatorRegistry.isConnected(), 10000);
    // No overrides path yet: the client watches for it to appear.
    operatorRegistry.setOverride(kService, kStage, address, makeOverride(50, true));
    QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 1, 10000);
    QCOMPARE(changed.first().at(0).toString(), kService);
    QCOMPARE(changed.first().at(1).toString(), kStage);
    QCOMPARE(describe(changed.first().at(2).value<InstanceOverrides>()), QStringLiteral("127.0.0.1:6001 weight=50 disabled"));
    QCOMPARE(client.overrides(kService, kStage).value(address), makeOverride(50, true));
    // The node is where the documentation says, persistent, and holds the JSON.
    ZooKeeperReader reader(m_zk->hosts());
    const auto node = reader.node(ZooKeeperRegistry::overridesPath(kService, kStage) + QLatin1String("/127.0.0.1%3A6001"));
    QVERIFY(node);
    QVERIFY(!node->second);
    QCOMPARE(InstanceOverride::fromJson(node->first, nullptr), makeOverride(50, true));

    // A change: seen within a second.
    QElapsedTimer seen;
    seen.start();
    operatorRegistry.setOverride(kService, kStage, address, makeOverride(200));
    QTRY_COMPARE_WITH_TIMEOUT(describe(client.overrides(kService, kStage)), QStringLiteral("127.0.0.1:6001 weight=200"), 1000);
    QVERIFY(seen.elapsed() < 1000);
    QCOMPARE(describe(changed.last().at(2).value<InstanceOverrides>()), QStringLiteral("127.0.0.1:6001 weight=200"));

    // A second instance's override joins; the whole map travels each time.
    operatorRegistry.setOverride(kService, kStage, QStringLiteral("[::1]:6002"), makeOverride(3));
    QTRY_COMPARE_WITH_TIMEOUT(describe(changed.last().at(2).value<InstanceOverrides>()),
                              QStringLiteral("127.0.0.1:6001 weight=200; [::1]:6002 weight=3"), 1000);

    // Cleared: the instance has its registered values again.
    seen.restart();
    operatorRegistry.clearOverride(kService, kStage, address);
    QTRY_COMPARE_WITH_TIMEOUT(describe(client.overrides(kService, kStage)), QStringLiteral("[::1]:6002 weight=3"), 1000);
    operatorRegistry.clearOverride(kService, kStage, QStringLiteral("[::1]:6002"));
    QTRY_VERIFY_WITH_TIMEOUT(client.overrides(kService, kStage).isEmpty(), 1000);
    QVERIFY(changed.last().at(2).value<InstanceOverrides>().isEmpty());
    const qsizetype signalCount = changed.size();
    // Clearing what is not there is no error, and changes nothing.
    operatorRegistry.clearOverride(kService, kStage, address);
    QTRY_VERIFY_WITH_TIMEOUT(reader.children(ZooKeeperRegistry::overridesPath(kService, kStage)).isEmpty(), 1000);
    QCOMPARE(changed.size(), signalCount);
    // Another stage sees none of it.
    QVERIFY(client.overrides(kService, QStringLiteral("prod")).isEmpty());
}

void tst_ZooKeeperRegistry::overridesWrittenBeforeTheSubscriptionAreRead()
{
    {
        ZooKeeperRegistry operatorRegistry(m_zk->hosts(), options());
        // Asked before the session is up: sent once it is.
        operatorRegistry.setOverride(kService, kStage, QStringLiteral("127.0.0.1:1"), makeOverride(10));
        operatorRegistry.setOverride(kService, kStage, QStringLiteral("127.0.0.1:2"), makeOverride(10));
        operatorRegistry.setOverride(kService, kStage, QStringLiteral("127.0.0.1:2"), makeOverride(20)); // the latest counts
        operatorRegistry.clearOverride(kService, kStage, QStringLiteral("127.0.0.1:3"));
        operatorRegistry.start();
        ZooKeeperReader reader(m_zk->hosts());
        QTRY_COMPARE_WITH_TIMEOUT(reader.children(ZooKeeperRegistry::overridesPath(kService, kStage)).size(), 2, 10000);
        const QString two = ZooKeeperRegistry::overridePath(kService, kStage, QStringLiteral("127.0.0.1:2"));
        QTRY_COMPARE_WITH_TIMEOUT(reader.node(two).value_or(std::make_pair(QByteArray(), false)).first,
                                  makeOverride(20).toJson(), 10000);
    }
    // Persistent: still there after the writer has gone.
    ZooKeeperRegistry client(m_zk->hosts(), options());
    QSignalSpy changed(&client, &ZooKeeperRegistry::overridesChanged);
    client.start();
    client.subscribe(kService, kStage);
    QTRY_COMPARE_WITH_TIMEOUT(describe(client.overrides(kService, kStage)),
                              QStringLiteral("127.0.0.1:1 weight=10; 127.0.0.1:2 weight=20"), 10000);

    // Someone removes the whole overrides path: every override goes.
    ZooKeeperReader reader(m_zk->hosts());
    const QString path = ZooKeeperRegistry::overridesPath(kService, kStage);
    for (const QString &child : reader.children(path))
        QVERIFY(reader.remove(path + QLatin1Char('/') + child));
    QVERIFY(reader.remove(path));
    QTRY_VERIFY_WITH_TIMEOUT(client.overrides(kService, kStage).isEmpty(), 5000);
    // And when it comes back, so do they.
    QCOMPARE(reader.put(ZooKeeperRegistry::overridePath(kService, kStage, QStringLiteral("127.0.0.1:1")),
                        R"({"disabled": true})"),
             int(ZOK));
    QTRY_COMPARE_WITH_TIMEOUT(describe(client.overrides(kService, kStage)), QStringLiteral("127.0.0.1:1 disabled"), 5000);
}

void tst_ZooKeeperRegistry::aMalformedOverrideIsLoggedAndIgnoredWhileTheOthersStay()
{
    ZooKeeperRegistry client(m_zk->hosts(), options());
    client.start();
    client.subscribe(kService, kStage);
    ZooKeeperRegistry operatorRegistry(m_zk->hosts(), options());
    operatorRegistry.start();
    const QString a = QStringLiteral("127.0.0.1:7001");
    const QString b = QStringLiteral("127.0.0.1:7002");
    operatorRegistry.setOverride(kService, kStage, a, makeOverride(30));
    operatorRegistry.setOverride(kService, kStage, b, makeOverride(40));
    QTRY_COMPARE_WITH_TIMEOUT(describe(client.overrides(kService, kStage)),
                              QStringLiteral("127.0.0.1:7001 weight=30; 127.0.0.1:7002 weight=40"), 10000);

    // b's data is replaced by hand with something that is not an override.
    ZooKeeperReader reader(m_zk->hosts());
    const QString bPath = ZooKeeperRegistry::overridePath(kService, kStage, b);
    QCOMPARE(reader.setCode(bPath, R"({"weight": "heavy"})"), int(ZOK));
    QTRY_COMPARE_WITH_TIMEOUT(describe(client.overrides(kService, kStage)), QStringLiteral("127.0.0.1:7001 weight=30"), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(!ignoredOverrides().isEmpty(), 5000);
    QVERIFY2(ignoredOverrides().first().contains(bPath) && ignoredOverrides().first().contains(QLatin1String("weight")),
             qPrintable(ignoredOverrides().first()));

    // A new node that is not JSON at all: logged, ignored; a's override stays.
    const QString cPath = ZooKeeperRegistry::overridePath(kService, kStage, QStringLiteral("127.0.0.1:7003"));
    QCOMPARE(reader.put(cPath, "weight=10"), int(ZOK));
    QTRY_VERIFY_WITH_TIMEOUT(ignoredOverrides().join(QLatin1Char('\n')).contains(cPath), 5000);
    QCOMPARE(describe(client.overrides(kService, kStage)), QStringLiteral("127.0.0.1:7001 weight=30"));
    // A node with no data (made by hand, or still being written): the same.
    const QString dPath = ZooKeeperRegistry::overridePath(kService, kStage, QStringLiteral("127.0.0.1:7004"));
    QCOMPARE(reader.put(dPath, QByteArray()), int(ZOK));
    QTRY_VERIFY_WITH_TIMEOUT(ignoredOverrides().join(QLatin1Char('\n')).contains(dPath), 5000);
    QCOMPARE(describe(client.overrides(kService, kStage)), QStringLiteral("127.0.0.1:7001 weight=30"));

    // Mended by hand: applied.
    QCOMPARE(reader.setCode(bPath, R"({"weight": 45})"), int(ZOK));
    QTRY_COMPARE_WITH_TIMEOUT(describe(client.overrides(kService, kStage)),
                              QStringLiteral("127.0.0.1:7001 weight=30; 127.0.0.1:7002 weight=45"), 5000);
    // Each bad content was said once, not again on every re-read of the list.
    QCOMPARE(ignoredOverrides().filter(bPath).size(), 1);
    QCOMPARE(ignoredOverrides().size(), 3);
}

void tst_ZooKeeperRegistry::withCredentialsConsumerAndOverrideNodesGetOurAcl()
{
    ZooKeeperRegistry registry(QStringLiteral("zookeeper://tomato:s3cret@") + m_zk->hosts(), options());
    registry.start();
    const ConsumerInfo me = consumer();
    registry.registerConsumer(me);
    registry.setOverride(kService, kStage, QStringLiteral("127.0.0.1:8001"), makeOverride(5));
    ZooKeeperReader anyone(m_zk->hosts());
    const QString overrideNode = ZooKeeperRegistry::overridePath(kService, kStage, QStringLiteral("127.0.0.1:8001"));
    QTRY_VERIFY_WITH_TIMEOUT(anyone.node(ZooKeeperRegistry::consumerPath(me)) && anyone.node(overrideNode), 10000);
    for (const QString &path : {ZooKeeperRegistry::consumersPath(kService, kStage), ZooKeeperRegistry::consumerPath(me),
                                ZooKeeperRegistry::overridesPath(kService, kStage), overrideNode}) {
        const QStringList acl = anyone.acl(path);
        QCOMPARE(acl.size(), 2);
        QVERIFY2(acl.at(0).startsWith(QLatin1String("digest:tomato:")) && acl.at(0).endsWith(QLatin1String("=31")),
                 qPrintable(acl.join(QLatin1Char(' '))));
        QCOMPARE(acl.at(1), QStringLiteral("world:anyone=1"));
    }
    // Only holders of the credentials change overrides.
    QCOMPARE(anyone.setCode(overrideNode, R"({"disabled": true})"), int(ZNOAUTH));
    QCOMPARE(anyone.createCode(ZooKeeperRegistry::overridePath(kService, kStage, QStringLiteral("127.0.0.1:8002"))),
             int(ZNOAUTH));
}

namespace {

// "service stage: providers | consumers | overrides", one line per entry: comparable, and
// readable when a check fails.
QStringList describe(const QList<RegistryServiceEntry> &entries)
{
    QStringList lines;
    for (const RegistryServiceEntry &e : entries) {
        QStringList providers, consumers;
        for (const InstanceInfo &i : e.providers)
            providers << i.group() + QLatin1Char('@') + i.address();
        for (const ConsumerInfo &c : e.consumers)
            consumers << c.application + QLatin1Char('@') + c.host;
        lines << QStringLiteral("%1 %2: %3 | %4 | %5")
                     .arg(e.microServiceId, e.stage, providers.join(QLatin1Char(' ')), consumers.join(QLatin1Char(' ')),
                          describe(e.overrides));
    }
    return lines;
}

} // namespace

void tst_ZooKeeperRegistry::browseReadsTheWholeTreeOnce()
{
    const QString other = QStringLiteral("other-service");
    ZooKeeperRegistry provider(m_zk->hosts(), options());
    QSignalSpy registered(&provider, &ZooKeeperRegistry::registered);
    const QList<InstanceInfo> instances = {instance(1002, QStringLiteral("dev"), QStringLiteral("gray")),
                                           instance(1001), instance(1003, QStringLiteral("prod"))};
    for (const InstanceInfo &i : instances)
        provider.registerInstance(i);
    InstanceInfo otherDev = instance(2001);
    otherDev.setMicroServiceId(other);
    InstanceInfo otherProd = instance(2002, QStringLiteral("prod"));
    otherProd.setMicroServiceId(other);
    provider.registerInstance(otherDev);
    provider.registerInstance(otherProd);
    provider.registerConsumer(consumer());
    provider.setOverride(kService, kStage, QStringLiteral("127.0.0.1:1001"), makeOverride(5));
    provider.start();
    // registered() once all six are in place: 5 instances and the consumer.
    QTRY_COMPARE_WITH_TIMEOUT(registered.size(), 1, 10000);
    ZooKeeperReader reader(m_zk->hosts());
    // Not ours: a malformed override and a node that is no instance are left out.
    QCOMPARE(reader.put(ZooKeeperRegistry::overridePath(other, QStringLiteral("prod"), QStringLiteral("127.0.0.1:2002")),
                        "weight=10"),
             int(ZOK));
    QCOMPARE(reader.put(ZooKeeperRegistry::providersPath(other, QStringLiteral("prod")) + QStringLiteral("/not-an-instance"),
                        "x"),
             int(ZOK));
    QTRY_COMPARE_WITH_TIMEOUT(reader.children(ZooKeeperRegistry::overridesPath(kService, kStage)).size(), 1, 10000);

    ZooKeeperRegistry operatorTool(m_zk->hosts(), options());
    operatorTool.start();
    const auto future = operatorTool.browse();
    QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), 10000);
    const QList<RegistryServiceEntry> tree = future.result();
    QCOMPARE(describe(tree),
             QStringList({QStringLiteral("demo/rpc service dev: main@127.0.0.1:1001 gray@127.0.0.1:1002 | "
                                         "tomato-sample-client@10.0.0.7 | 127.0.0.1:1001 weight=5"),
                          QStringLiteral("demo/rpc service prod: main@127.0.0.1:1003 |  | "),
                          QStringLiteral("other-service dev: main@127.0.0.1:2001 |  | "),
                          QStringLiteral("other-service prod: main@127.0.0.1:2002 |  | ")}));
    // The values are those registered, start times and all.
    QCOMPARE(tree.at(0).providers.at(0), instances.at(1));
    QCOMPARE(tree.at(0).consumers.at(0), consumer());
    // A one-shot read: the tool subscribed to nothing.
    QVERIFY(operatorTool.instances(kService, kStage).isEmpty());
}

void tst_ZooKeeperRegistry::aBrowseWaitsForTheSessionAndStoppingFailsIt()
{
    // Asked before start(): read once the session is up. No /tomato yet: an empty tree.
    ZooKeeperRegistry registry(m_zk->hosts(), options());
    const auto early = registry.browse();
    QCoreApplication::processEvents();
    QVERIFY(!early.isFinished());
    registry.start();
    QTRY_VERIFY_WITH_TIMEOUT(early.isFinished(), 10000);
    QVERIFY(early.result().isEmpty());

    // ZooKeeper gone: the browse waits for it; stop() ends the wait with Cancelled.
    m_zk->stop();
    QTRY_VERIFY_WITH_TIMEOUT(!registry.isConnected(), 10000);
    auto pending = registry.browse();
    QCoreApplication::processEvents();
    QVERIFY(!pending.isFinished());
    registry.stop();
    QVERIFY(pending.isFinished());
    try {
        pending.waitForFinished();
        QFAIL("a stopped browse must fail");
    } catch (const RpcError &e) {
        QCOMPARE(e.code(), RpcError::Cancelled);
    }
}


namespace {

// The entries a watcher reported by treeEntryChanged(), as describe() lines, in order.
QStringList reported(const QSignalSpy &changed)
{
    QList<RegistryServiceEntry> entries;
    for (const QList<QVariant> &arguments : changed)
        entries << arguments.at(0).value<RegistryServiceEntry>();
    return describe(entries);
}

// Every report differs from the one before it for the same service and stage.
bool reportsOnlyChanges(const QSignalSpy &changed)
{
    QHash<QString, QString> last;
    for (const QList<QVariant> &arguments : changed) {
        const auto entry = arguments.at(0).value<RegistryServiceEntry>();
        const QString line = describe(QList<RegistryServiceEntry>{entry}).first()
            + (entry.writable ? QLatin1String("") : QLatin1String(" read-only"));
        QString &before = last[entry.microServiceId + QLatin1Char('\n') + entry.stage];
        if (line == before)
            return false;
        before = line;
    }
    return true;
}

InstanceInfo otherInstance(quint16 port, const QString &stage)
{
    InstanceInfo i = instance(port, stage);
    i.setMicroServiceId(QStringLiteral("other-service"));
    return i;
}

} // namespace

void tst_ZooKeeperRegistry::aWatchedTreeSeesServicesAppearWithinASecond()
{
    ZooKeeperRegistry dashboard(m_zk->hosts(), options());
    QSignalSpy changed(&dashboard, &ZooKeeperRegistry::treeEntryChanged);
    QSignalSpy loaded(&dashboard, &ZooKeeperRegistry::treeLoaded);
    dashboard.watchTree(); // before start(): read once the session is up
    QVERIFY(!dashboard.isTreeLoaded());
    dashboard.start();
    // An empty ZooKeeper, no /tomato: loaded, and empty.
    QVERIFY(loaded.wait(10000));
    QVERIFY(dashboard.isTreeLoaded());
    QVERIFY(dashboard.tree().isEmpty());

    ZooKeeperRegistry provider(m_zk->hosts(), options());
    QSignalSpy registered(&provider, &ZooKeeperRegistry::registered);
    provider.registerInstance(instance(1001));
    provider.start();
    QVERIFY(registered.wait(10000));
    const QString first = QStringLiteral("demo/rpc service dev: main@127.0.0.1:1001 |  | ");
    QElapsedTimer seen;
    seen.start();
    QTRY_VERIFY_WITH_TIMEOUT(reported(changed).contains(first), 3000); // within a second here; slack for sanitizer builds
    QVERIFY(seen.elapsed() < 1000);

    // Another service in another stage, while connected.
    const QString second = QStringLiteral("other-service prod: main@127.0.0.1:2002 |  | ");
    registered.clear();
    provider.registerInstance(otherInstance(2002, QStringLiteral("prod")));
    QVERIFY(registered.wait(10000));
    seen.restart();
    QTRY_VERIFY_WITH_TIMEOUT(reported(changed).contains(second), 3000); // within a second here; slack for sanitizer builds
    QVERIFY(seen.elapsed() < 1000);

    const QList<RegistryServiceEntry> tree = dashboard.tree();
    QCOMPARE(describe(tree), QStringList({first, second}));
    QCOMPARE(tree.at(0).providers.at(0), instance(1001)); // the registered value, whole
    QVERIFY(tree.at(0).writable && tree.at(1).writable);  // open nodes, no credentials
    QVERIFY(dashboard.isTreeLoaded());
    QCOMPARE(loaded.size(), 1); // one session: loaded once
    QVERIFY(reportsOnlyChanges(changed));
}

void tst_ZooKeeperRegistry::aWatchedTreeFollowsConsumersAndProviders()
{
    ZooKeeperRegistry provider(m_zk->hosts(), options());
    QSignalSpy registered(&provider, &ZooKeeperRegistry::registered);
    provider.registerInstance(instance(1001));
    provider.start();
    QVERIFY(registered.wait(10000));

    ZooKeeperRegistry dashboard(m_zk->hosts(), options());
    QSignalSpy changed(&dashboard, &ZooKeeperRegistry::treeEntryChanged);
    QSignalSpy removed(&dashboard, &ZooKeeperRegistry::treeEntryRemoved);
    QSignalSpy loaded(&dashboard, &ZooKeeperRegistry::treeLoaded);
    dashboard.start();
    dashboard.watchTree();
    QVERIFY(loaded.wait(10000));
    // Loaded means read: the entry is there whole, reported once (not piece by piece).
    const QStringList withProvider{QStringLiteral("demo/rpc service dev: main@127.0.0.1:1001 |  | ")};
    QCOMPARE(describe(dashboard.tree()), withProvider);
    QCOMPARE(reported(changed), withProvider);

    ZooKeeperRegistry client(m_zk->hosts(), options());
    client.start();
    client.registerConsumer(consumer());
    QTRY_COMPARE_WITH_TIMEOUT(describe(dashboard.tree()),
                              QStringList{QStringLiteral("demo/rpc service dev: main@127.0.0.1:1001 | "
                                                         "tomato-sample-client@10.0.0.7 | ")},
                              10000);
    QCOMPARE(changed.last().at(0).value<RegistryServiceEntry>().consumers, QList<ConsumerInfo>{consumer()});
    client.unregisterConsumer(consumer());
    QTRY_COMPARE_WITH_TIMEOUT(describe(dashboard.tree()), withProvider, 5000);
    // The instance goes: no providers, and the stage is still there (its node is).
    provider.unregisterInstance(instance(1001));
    QTRY_COMPARE_WITH_TIMEOUT(describe(dashboard.tree()), QStringList{QStringLiteral("demo/rpc service dev:  |  | ")},
                              5000);
    QCOMPARE(removed.size(), 0);
    QVERIFY(reportsOnlyChanges(changed));
}

void tst_ZooKeeperRegistry::aWatchedTreeSeesOverridesAndWritesReportTheirOutcome()
{
    ZooKeeperRegistry provider(m_zk->hosts(), options());
    provider.registerInstance(instance(1001));
    provider.start();
    ZooKeeperRegistry dashboard(m_zk->hosts(), options());
    QSignalSpy written(&dashboard, &ZooKeeperRegistry::overrideWriteFinished);
    dashboard.start();
    dashboard.watchTree();
    QTRY_COMPARE_WITH_TIMEOUT(dashboard.tree().size(), 1, 10000);
    const auto overrides = [&dashboard] { return describe(dashboard.tree().value(0).overrides); };

    // Written by the dashboard itself: reported written, and seen in its tree.
    const QString address = QStringLiteral("127.0.0.1:1001");
    dashboard.setOverride(kService, kStage, address, makeOverride(50, true));
    QTRY_COMPARE_WITH_TIMEOUT(written.size(), 1, 10000);
    QCOMPARE(written.first(), (QVariantList{kService, kStage, address, QString()}));
    QTRY_COMPARE_WITH_TIMEOUT(overrides(), QStringLiteral("127.0.0.1:1001 weight=50 disabled"), 3000); // within a second here; slack for sanitizer builds

    // Written elsewhere: a change of the node's data.
    ZooKeeperRegistry operatorRegistry(m_zk->hosts(), options());
    operatorRegistry.start();
    operatorRegistry.setOverride(kService, kStage, address, makeOverride(200));
    QTRY_COMPARE_WITH_TIMEOUT(overrides(), QStringLiteral("127.0.0.1:1001 weight=200"), 10000);
    // A malformed node by hand is left out; a valid one next to it is not.
    ZooKeeperReader reader(m_zk->hosts());
    QCOMPARE(reader.put(ZooKeeperRegistry::overridePath(kService, kStage, QStringLiteral("127.0.0.1:1002")), "weight=1"),
             int(ZOK));
    QCOMPARE(reader.put(ZooKeeperRegistry::overridePath(kService, kStage, QStringLiteral("127.0.0.1:1003")),
                        R"({"weight": 3})"),
             int(ZOK));
    QTRY_COMPARE_WITH_TIMEOUT(overrides(), QStringLiteral("127.0.0.1:1001 weight=200; 127.0.0.1:1003 weight=3"), 5000);

    // Cleared by the dashboard: reported, and gone from the tree.
    dashboard.clearOverride(kService, kStage, address);
    QTRY_COMPARE_WITH_TIMEOUT(written.size(), 2, 10000);
    QCOMPARE(written.last(), (QVariantList{kService, kStage, address, QString()}));
    QTRY_COMPARE_WITH_TIMEOUT(overrides(), QStringLiteral("127.0.0.1:1003 weight=3"), 3000); // within a second here; slack for sanitizer builds
    // The whole overrides path removed: none left.
    QVERIFY(reader.removeTree(ZooKeeperRegistry::overridesPath(kService, kStage)));
    QTRY_COMPARE_WITH_TIMEOUT(overrides(), QString(), 5000);
    QCOMPARE(dashboard.tree().value(0).providers, QList<InstanceInfo>{instance(1001)});
}

void tst_ZooKeeperRegistry::aWatchedTreeReportsDeletedStagesAndServices()
{
    ZooKeeperRegistry provider(m_zk->hosts(), options());
    QSignalSpy registered(&provider, &ZooKeeperRegistry::registered);
    provider.registerInstance(instance(1001));
    provider.registerInstance(instance(1002, QStringLiteral("prod")));
    provider.registerInstance(otherInstance(2001, QStringLiteral("dev")));
    provider.registerInstance(otherInstance(2002, QStringLiteral("prod")));
    provider.start();
    QVERIFY(registered.wait(10000));
    ZooKeeperRegistry dashboard(m_zk->hosts(), options());
    QSignalSpy removed(&dashboard, &ZooKeeperRegistry::treeEntryRemoved);
    QSignalSpy loaded(&dashboard, &ZooKeeperRegistry::treeLoaded);
    dashboard.start();
    dashboard.watchTree();
    QVERIFY(loaded.wait(10000));
    QCOMPARE(dashboard.tree().size(), 4);

    // A stage deleted by hand, with everything below it.
    ZooKeeperReader reader(m_zk->hosts());
    QVERIFY(reader.removeTree(QStringLiteral("/tomato/demo%2Frpc%20service/prod")));
    QTRY_COMPARE_WITH_TIMEOUT(removed.size(), 1, 5000);
    QCOMPARE(removed.first(), (QVariantList{kService, QStringLiteral("prod")}));
    // A whole service: each of its stages.
    QVERIFY(reader.removeTree(QStringLiteral("/tomato/other-service")));
    QTRY_COMPARE_WITH_TIMEOUT(removed.size(), 3, 5000);
    QStringList gone; // in no particular order
    for (const QList<QVariant> &arguments : removed.mid(1))
        gone << arguments.at(0).toString() + QLatin1Char(' ') + arguments.at(1).toString();
    gone.sort();
    QCOMPARE(gone, QStringList({QStringLiteral("other-service dev"), QStringLiteral("other-service prod")}));
    QCOMPARE(describe(dashboard.tree()), QStringList{QStringLiteral("demo/rpc service dev: main@127.0.0.1:1001 |  | ")});
    // The whole tree: the last one.
    QVERIFY(reader.removeTree(QStringLiteral("/tomato")));
    QTRY_COMPARE_WITH_TIMEOUT(removed.size(), 4, 5000);
    QVERIFY(dashboard.tree().isEmpty());
    // And it comes back: /tomato is watched for.
    ZooKeeperRegistry later(m_zk->hosts(), options());
    later.registerInstance(instance(1003));
    later.start();
    QTRY_COMPARE_WITH_TIMEOUT(describe(dashboard.tree()),
                              QStringList{QStringLiteral("demo/rpc service dev: main@127.0.0.1:1003 |  | ")}, 10000);
}

// The tree belongs to credentials: anyone may read it, only their holders write.
void tst_ZooKeeperRegistry::withoutTheCredentialsAWatchedTreeIsReadOnly()
{
    const QString ownerUri = QStringLiteral("zookeeper://tomato:s3cret@") + m_zk->hosts();
    ZooKeeperRegistry provider(ownerUri, options());
    QSignalSpy registered(&provider, &ZooKeeperRegistry::registered);
    provider.registerInstance(instance(1001));
    provider.start();
    QVERIFY(registered.wait(10000));
    // A service no one else may even read.
    ZooKeeperReader holderReader(m_zk->hosts(), "tomato:s3cret");
    QCOMPARE(holderReader.createPrivate(QStringLiteral("/tomato/secret")), int(ZOK));

    ZooKeeperRegistry anyone(m_zk->hosts(), options());
    QVERIFY(!anyone.hasCredentials());
    QSignalSpy loaded(&anyone, &ZooKeeperRegistry::treeLoaded);
    QSignalSpy failed(&anyone, &ZooKeeperRegistry::treeReadFailed);
    QSignalSpy written(&anyone, &ZooKeeperRegistry::overrideWriteFinished);
    anyone.start();
    anyone.watchTree();
    QVERIFY(loaded.wait(10000));
    const QStringList expected{QStringLiteral("demo/rpc service dev: main@127.0.0.1:1001 |  | ")};
    QCOMPARE(describe(anyone.tree()), expected);
    QVERIFY(!anyone.tree().at(0).writable);
    QCOMPARE(failed.size(), 1);
    QCOMPARE(failed.first().at(0).toString(), QStringLiteral("/tomato/secret"));
    QVERIFY2(failed.first().at(1).toString().contains(QLatin1String("ZNOAUTH")), qPrintable(failed.first().at(1).toString()));
    // Its write is refused, and says why.
    anyone.setOverride(kService, kStage, QStringLiteral("127.0.0.1:1001"), makeOverride(5));
    QTRY_COMPARE_WITH_TIMEOUT(written.size(), 1, 10000);
    const QString error = written.first().at(3).toString();
    QVERIFY2(error.contains(QLatin1String("not authorised")) && error.contains(QLatin1String("ZNOAUTH")), qPrintable(error));

    // Other credentials are no better; the same ones may write.
    ZooKeeperRegistry stranger(QStringLiteral("zookeeper://tomato:wrong@") + m_zk->hosts(), options());
    ZooKeeperRegistry holder(ownerUri, options());
    QVERIFY(holder.hasCredentials());
    QSignalSpy holderWritten(&holder, &ZooKeeperRegistry::overrideWriteFinished);
    for (ZooKeeperRegistry *r : {&stranger, &holder}) {
        r->start();
        r->watchTree();
    }
    QTRY_VERIFY_WITH_TIMEOUT(stranger.isTreeLoaded() && holder.isTreeLoaded(), 10000);
    QCOMPARE(describe(holder.tree()), expected);
    QVERIFY(holder.tree().at(0).writable);
    QVERIFY(!stranger.tree().at(0).writable);
    holder.setOverride(kService, kStage, QStringLiteral("127.0.0.1:1001"), makeOverride(5));
    QTRY_COMPARE_WITH_TIMEOUT(holderWritten.size(), 1, 10000);
    QCOMPARE(holderWritten.first().at(3).toString(), QString());
    // The reader without credentials sees the protected override.
    QTRY_COMPARE_WITH_TIMEOUT(describe(anyone.tree().at(0).overrides), QStringLiteral("127.0.0.1:1001 weight=5"), 5000);
}

void tst_ZooKeeperRegistry::aWatchedTreeOutlivesAZooKeeperRestart_data()
{
    QTest::addColumn<bool>("wipe");
    QTest::newRow("restarted") << false;
    QTest::newRow("restarted with no memory: a new session") << true;
}

void tst_ZooKeeperRegistry::aWatchedTreeOutlivesAZooKeeperRestart()
{
    QFETCH(bool, wipe);
    ZooKeeperRegistry provider(m_zk->hosts(), options());
    QSignalSpy registered(&provider, &ZooKeeperRegistry::registered);
    provider.registerInstance(instance(1001));
    provider.start();
    QVERIFY(registered.wait(10000));
    ZooKeeperRegistry dashboard(m_zk->hosts(), options());
    QSignalSpy loaded(&dashboard, &ZooKeeperRegistry::treeLoaded);
    QSignalSpy removed(&dashboard, &ZooKeeperRegistry::treeEntryRemoved);
    dashboard.start();
    dashboard.watchTree();
    QVERIFY(loaded.wait(10000));
    const QStringList before = describe(dashboard.tree());
    QCOMPARE(before, QStringList{QStringLiteral("demo/rpc service dev: main@127.0.0.1:1001 |  | ")});

    // Disconnected: everything stays.
    m_zk->stop();
    QTRY_VERIFY_WITH_TIMEOUT(!dashboard.isConnected(), 10000);
    QCOMPARE(describe(dashboard.tree()), before);
    QVERIFY(dashboard.isTreeLoaded());
    QCOMPARE(removed.size(), 0);

    if (wipe)
        m_zk->wipe();
    QVERIFY2(m_zk->start(), qPrintable(m_zk->log()));
    QTRY_VERIFY_WITH_TIMEOUT(dashboard.isConnected(), 20000);
    // The watches were re-armed: a provider registered after the restart appears.
    ZooKeeperRegistry later(m_zk->hosts(), options());
    later.registerInstance(instance(1002));
    later.start();
    QTRY_COMPARE_WITH_TIMEOUT(describe(dashboard.tree()),
                              QStringList{QStringLiteral("demo/rpc service dev: main@127.0.0.1:1001 main@127.0.0.1:1002 |  | ")},
                              20000);
    if (wipe) // a new session: read afresh, and said so
        QTRY_VERIFY_WITH_TIMEOUT(loaded.size() >= 2, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(dashboard.isTreeLoaded(), 10000);
}

QTEST_GUILESS_MAIN(tst_ZooKeeperRegistry)
#include "tst_zookeeperregistry.moc"

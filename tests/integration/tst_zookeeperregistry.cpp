// The ZooKeeper registry against a real ZooKeeper server (started here), checked with an
// independent reader: the ZooKeeper C client used directly, not our registry code.
#include "zookeeperserver.h"

#include <tomato/core/rpcerror.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QSignalSpy>
#include <QtCore/QLoggingCategory>
#include <QtCore/QScopeGuard>
#include <QtTest/QTest>

#include <zookeeper/zookeeper.h>

#include <atomic>

using namespace Tomato;

namespace {

QAtomicInt s_emptyProtectionLogged;
QAtomicInt s_registrationRefused;
QAtomicInt s_watchingForAPath;
QtMessageHandler s_previousHandler = nullptr;

void watchMessages(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (message.contains(QLatin1String("empty protection keeps")))
        s_emptyProtectionLogged.storeRelease(1);
    if (message.contains(QLatin1String("registering")) && message.contains(QLatin1String("not authenticated")))
        s_registrationRefused.storeRelease(1);
    if (message.contains(QLatin1String("yet; watching for it")))
        s_watchingForAPath.storeRelease(1);
    s_previousHandler(type, context, message);
}

// Synchronous ZooKeeper client for checking the tree.
class Reader
{
public:
    // `credentials`: "user:password" to authenticate with (digest), or none.
    explicit Reader(const QString &hosts, const QByteArray &credentials = {})
    {
        m_zh = zookeeper_init(hosts.toUtf8().constData(), nullptr, 10000, nullptr, nullptr, 0);
        QDeadlineTimer deadline(10000);
        while (m_zh && zoo_state(m_zh) != ZOO_CONNECTED_STATE && !deadline.hasExpired())
            QThread::msleep(20);
        if (m_zh && !credentials.isEmpty()) {
            std::atomic<int> rc{-1000};
            zoo_add_auth(m_zh, "digest", credentials.constData(), int(credentials.size()),
                         [](int result, const void *data) {
                             static_cast<std::atomic<int> *>(const_cast<void *>(data))->store(result);
                         }, &rc);
            while (rc.load() == -1000 && !deadline.hasExpired())
                QThread::msleep(5);
        }
    }
    ~Reader()
    {
        if (m_zh)
            zookeeper_close(m_zh);
    }
    bool connected() const { return m_zh && zoo_state(m_zh) == ZOO_CONNECTED_STATE; }
    QStringList children(const QString &path)
    {
        String_vector v{};
        QStringList out;
        if (zoo_get_children(m_zh, path.toUtf8().constData(), 0, &v) == ZOK) {
            for (int i = 0; i < v.count; ++i)
                out << QString::fromUtf8(v.data[i]);
            deallocate_String_vector(&v);
        }
        return out;
    }
    // Node data, and whether the node is ephemeral; nullopt when absent.
    std::optional<std::pair<QByteArray, bool>> node(const QString &path)
    {
        char buffer[4096];
        int len = sizeof buffer;
        Stat stat{};
        if (zoo_get(m_zh, path.toUtf8().constData(), 0, buffer, &len, &stat) != ZOK)
            return std::nullopt;
        return std::make_pair(QByteArray(buffer, qMax(0, len)), stat.ephemeralOwner != 0);
    }
    bool remove(const QString &path) { return zoo_delete(m_zh, path.toUtf8().constData(), -1) == ZOK; }
    int removeCode(const QString &path) { return zoo_delete(m_zh, path.toUtf8().constData(), -1); }
    int setCode(const QString &path, const QByteArray &data)
    {
        return zoo_set(m_zh, path.toUtf8().constData(), data.constData(), int(data.size()), -1);
    }
    int createCode(const QString &path)
    {
        return zoo_create(m_zh, path.toUtf8().constData(), "x", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, nullptr, 0);
    }
    // "scheme:id=perms" of each ACL entry of the node, sorted.
    QStringList acl(const QString &path)
    {
        ACL_vector acl{};
        Stat stat{};
        QStringList out;
        if (zoo_get_acl(m_zh, path.toUtf8().constData(), &acl, &stat) != ZOK)
            return out;
        for (int i = 0; i < acl.count; ++i)
            out << QStringLiteral("%1:%2=%3").arg(QString::fromUtf8(acl.data[i].id.scheme),
                                                  QString::fromUtf8(acl.data[i].id.id)).arg(acl.data[i].perms);
        deallocate_ACL_vector(&acl);
        out.sort();
        return out;
    }

private:
    zhandle_t *m_zh = nullptr;
};

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

    Reader reader(m_zk->hosts());
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
    Reader reader(m_zk->hosts());
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
    Reader reader(m_zk->hosts());
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
    Reader reader(m_zk->hosts());
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
    Reader reader(m_zk->hosts());
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

    Reader anyone(m_zk->hosts());
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
    Reader holder(m_zk->hosts(), "tomato:s3cr:t@x");
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
        Reader reader(m_zk->hosts());
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
    Reader reader(m_zk->hosts());
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

QTEST_GUILESS_MAIN(tst_ZooKeeperRegistry)
#include "tst_zookeeperregistry.moc"

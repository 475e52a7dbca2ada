// The ZooKeeper registry against a real ZooKeeper server (started here), checked with an
// independent reader: the ZooKeeper C client used directly, not our registry code.
#include "zookeeperserver.h"

#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <zookeeper/zookeeper.h>

using namespace Tomato;

namespace {

QAtomicInt s_emptyProtectionLogged;
QtMessageHandler s_previousHandler = nullptr;

void watchMessages(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (message.contains(QLatin1String("empty protection keeps")))
        s_emptyProtectionLogged.storeRelease(1);
    s_previousHandler(type, context, message);
}

// Synchronous ZooKeeper client for checking the tree.
class Reader
{
public:
    explicit Reader(const QString &hosts)
    {
        m_zh = zookeeper_init(hosts.toUtf8().constData(), nullptr, 10000, nullptr, nullptr, 0);
        QDeadlineTimer deadline(10000);
        while (m_zh && zoo_state(m_zh) != ZOO_CONNECTED_STATE && !deadline.hasExpired())
            QThread::msleep(20);
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

private:
    zhandle_t *m_zh = nullptr;
};

InstanceInfo instance(quint16 port, const QString &stage = QStringLiteral("dev"),
                      const QString &group = QStringLiteral("main"))
{
    InstanceInfo i;
    i.host = QStringLiteral("127.0.0.1");
    i.port = port;
    i.microServiceId = QStringLiteral("demo/rpc service"); // '/' and ' ' must be encoded
    i.stage = stage;
    i.group = group;
    i.interfaces = QStringLiteral("abc123");
    return i;
}

ZooKeeperRegistry::Options options(const ZooKeeperServer &zk, bool emptyProtection = true)
{
    ZooKeeperRegistry::Options o;
    o.hosts = zk.hosts();
    o.sessionTimeoutMs = 4000;
    o.emptyProtection = emptyProtection;
    return o;
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
    i.group = QStringLiteral("gr&ay=1/ü");
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
    ZooKeeperRegistry registry(options(*m_zk));
    QSignalSpy registered(&registry, &ZooKeeperRegistry::registered);
    const InstanceInfo me = instance(4567);
    registry.registerInstance(me);
    registry.start();
    QVERIFY(registered.wait(10000));

    Reader reader(m_zk->hosts());
    QVERIFY(reader.connected());
    QCOMPARE(reader.children(QStringLiteral("/tomato")), QStringList{QStringLiteral("demo%2Frpc%20service")});
    const QString providers = QStringLiteral("/tomato/demo%2Frpc%20service/dev/providers");
    QCOMPARE(providers, ZooKeeperRegistry::providersPath(me.microServiceId, me.stage));
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
    const QString providers = ZooKeeperRegistry::providersPath(a.microServiceId, a.stage);
    ZooKeeperRegistry registry(options(*m_zk));
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
    ZooKeeperRegistry subscriber(options(*m_zk));
    QSignalSpy changed(&subscriber, &ZooKeeperRegistry::instancesChanged);
    subscriber.start();
    subscriber.subscribe(QStringLiteral("demo/rpc service"), QStringLiteral("dev"));
    QVERIFY(changed.wait(10000)); // the first read: empty
    QVERIFY(subscriber.instances(QStringLiteral("demo/rpc service"), QStringLiteral("dev")).isEmpty());

    ZooKeeperRegistry provider(options(*m_zk));
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
    QCOMPARE(list.first().port, quint16(2001));
}

void tst_ZooKeeperRegistry::stagesAreIsolated()
{
    ZooKeeperRegistry provider(options(*m_zk));
    provider.start();
    provider.registerInstance(instance(3001, QStringLiteral("prod")));
    provider.registerInstance(instance(3002, QStringLiteral("dev")));
    ZooKeeperRegistry dev(options(*m_zk));
    dev.start();
    dev.subscribe(QStringLiteral("demo/rpc service"), QStringLiteral("dev"));
    QTRY_COMPARE_WITH_TIMEOUT(dev.instances(QStringLiteral("demo/rpc service"), QStringLiteral("dev")).size(), 1, 10000);
    QCOMPARE(dev.instances(QStringLiteral("demo/rpc service"), QStringLiteral("dev")).first().port, quint16(3002));
}

void tst_ZooKeeperRegistry::knownInstancesSurviveAZooKeeperOutage()
{
    ZooKeeperRegistry provider(options(*m_zk));
    provider.start();
    provider.registerInstance(instance(4001));
    ZooKeeperRegistry subscriber(options(*m_zk));
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
    ZooKeeperRegistry provider(options(*m_zk));
    provider.start();
    provider.registerInstance(instance(5001));
    ZooKeeperRegistry subscriber(options(*m_zk));
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
    ZooKeeperRegistry second(options(*m_zk));
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
    ZooKeeperRegistry provider(options(*m_zk));
    provider.start();
    const InstanceInfo me = instance(6001);
    provider.registerInstance(me);
    ZooKeeperRegistry subscriber(options(*m_zk, protection));
    subscriber.start();
    subscriber.subscribe(me.microServiceId, me.stage);
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.instances(me.microServiceId, me.stage).size(), 1, 10000);
    // Someone removes the node behind our back: a healthy read that lists nothing.
    Reader reader(m_zk->hosts());
    QVERIFY(reader.remove(ZooKeeperRegistry::instancePath(me)));
    if (protection) {
        // The registry says when it ignores an empty read; wait for that, then check.
        QTRY_VERIFY_WITH_TIMEOUT(s_emptyProtectionLogged.loadAcquire(), 10000);
        QCOMPARE(subscriber.instances(me.microServiceId, me.stage).size(), 1);
    } else {
        QTRY_COMPARE_WITH_TIMEOUT(subscriber.instances(me.microServiceId, me.stage).size(), 0, 10000);
    }
}

void tst_ZooKeeperRegistry::aProviderRegistersOnceZooKeeperBecomesReachable()
{
    m_zk->stop();
    ZooKeeperRegistry provider(options(*m_zk));
    QSignalSpy registered(&provider, &ZooKeeperRegistry::registered);
    provider.start();
    provider.registerInstance(instance(7001));
    QVERIFY(!provider.isConnected());
    QVERIFY(m_zk->start());
    QVERIFY(registered.wait(20000));
    Reader reader(m_zk->hosts());
    QCOMPARE(reader.children(ZooKeeperRegistry::providersPath(QStringLiteral("demo/rpc service"), QStringLiteral("dev"))).size(), 1);
}

QTEST_GUILESS_MAIN(tst_ZooKeeperRegistry)
#include "tst_zookeeperregistry.moc"

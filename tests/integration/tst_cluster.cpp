// SPDX-License-Identifier: Apache-2.0
// Real sample-server processes registering in a real ZooKeeper (one server or a 3-node
// ensemble), and an RpcClient in this process finding and calling them.
#include "echoservice_stub.h"
#include "sampleserver.h"
#include "testcertificates.h"
#include "zookeeperserver.h"

#include <tomato/client/rpcclient.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QScopeGuard>
#include <QtCore/QRegularExpression>
#include <QtTest/QTest>

#include <atomic>
#include <csignal>
#include <thread>

using namespace Tomato;

namespace {

RpcConfig clientConfig(const QString &group = QStringLiteral("main"), const QString &override = {})
{
    RpcConfig c;
    c.setStage(QStringLiteral("dev"));
    c.setGroup(group);
    c.set(QStringLiteral("subscribed-services"), QStringLiteral("demo-rpc-service"));
    if (!override.isEmpty())
        c.set(QStringLiteral("subscribed-services-group"), override);
    c.setTimeoutMs(3000);
    return c;
}

std::unique_ptr<ZooKeeperRegistry> registryFor(const QString &hosts)
{
    RpcConfig c;
    c.setRegistrySessionTimeoutMs(4000);
    return std::make_unique<ZooKeeperRegistry>(hosts, c);
}

// A client that finds demo-rpc-service through its own registry connection.
struct Subscriber
{
    explicit Subscriber(const QString &hosts, const RpcConfig &config = clientConfig())
        : registry(registryFor(hosts)), client(config)
    {
        client.setRegistry(registry.get());
    }
    QStringList instances() const { return client.instances(QStringLiteral("demo-rpc-service")); }

    std::unique_ptr<ZooKeeperRegistry> registry;
    RpcClient client;
};

// The ports that answered n echo calls.
QSet<QString> answerers(Sample::EchoService &echo, int n)
{
    QSet<QString> ports;
    static const QRegularExpression who(QStringLiteral("^\\[127\\.0\\.0\\.1:(\\d+) "));
    for (int i = 0; i < n; ++i)
        ports << who.match(echo.echo(QStringLiteral("x"))).captured(1);
    return ports;
}

} // namespace

class tst_Cluster : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<QList<Tomato::InstanceInfo>>(); }
    void aClientCallsOnlyItsStageAndGroup();
    void theGroupOverrideChoosesAnotherGroupForOneService();
    void withoutProvidersCallsFailWithNoProvider();
    void aNewProviderReachesARunningClientWithinASecond();
    void aKilledProviderDisappearsWithinTheSessionTimeout();
    void aStoppedProviderUnregistersAtOnce();
    void callsKeepFlowingWhileZooKeeperIsDown();
    void anEnsembleLosingItsLeaderFailsNoCall();
    void aTlsProviderIsCalledOverTlsWithoutBeingToldSo();
    void providersRegisteredWithCredentialsAreFoundByAnyClient();
};

void tst_Cluster::aClientCallsOnlyItsStageAndGroup()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    SampleServer devMain(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    SampleServer devGray(zk.hosts(), QStringLiteral("dev"), QStringLiteral("gray"));
    SampleServer prodMain(zk.hosts(), QStringLiteral("prod"), QStringLiteral("main"));
    QVERIFY(devMain.port() && devGray.port() && prodMain.port());

    Subscriber sub(zk.hosts());
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances(), QStringList{devMain.address()}, 10000);
    auto echo = sub.client.stub<Sample::EchoService>();
    QCOMPARE(answerers(*echo, 20), QSet<QString>{QString::number(devMain.port())});
}

void tst_Cluster::theGroupOverrideChoosesAnotherGroupForOneService()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    SampleServer devMain(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    SampleServer devGray(zk.hosts(), QStringLiteral("dev"), QStringLiteral("gray"));
    Subscriber sub(zk.hosts(), clientConfig(QStringLiteral("main"), QStringLiteral("demo-rpc-service:gray")));
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances(), QStringList{devGray.address()}, 10000);
    auto echo = sub.client.stub<Sample::EchoService>();
    QCOMPARE(answerers(*echo, 10), QSet<QString>{QString::number(devGray.port())});
}

void tst_Cluster::withoutProvidersCallsFailWithNoProvider()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    Subscriber sub(zk.hosts());
    auto echo = sub.client.stub<Sample::EchoService>();
    try {
        echo->echo(QStringLiteral("x"));
        QFAIL("a call without providers succeeded");
    } catch (const RpcError &e) {
        QCOMPARE(e.code(), RpcError::NoProvider);
        QVERIFY2(e.message().contains(QLatin1String("demo-rpc-service")), qPrintable(e.message()));
    }
}

void tst_Cluster::aNewProviderReachesARunningClientWithinASecond()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    SampleServer first(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    Subscriber sub(zk.hosts());
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances().size(), 1, 10000);
    SampleServer second(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    QVERIFY(second.port());
    // READY is printed once registering has been asked for; the node follows within ms.
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances().size(), 2, 1000);
}

void tst_Cluster::aKilledProviderDisappearsWithinTheSessionTimeout()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    SampleServer a(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    SampleServer b(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    Subscriber sub(zk.hosts());
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances().size(), 2, 10000);
    QElapsedTimer sinceKill;
    b.killHard();
    sinceKill.start();
    // The servers' session timeout is 2 s; ZooKeeper expires sessions in ticks of 0.5 s.
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances(), QStringList{a.address()}, 10000);
    QVERIFY2(sinceKill.elapsed() < 2000 + 2000, qPrintable(QString::number(sinceKill.elapsed())));
}

void tst_Cluster::aStoppedProviderUnregistersAtOnce()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    SampleServer a(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    SampleServer b(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    Subscriber sub(zk.hosts());
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances().size(), 2, 10000);
    QElapsedTimer sinceStop;
    sinceStop.start();
    b.terminate(); // SIGTERM: unregister first, then drain and close
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances(), QStringList{a.address()}, 5000);
    // Far sooner than the 2 s session timeout a crash would take.
    QVERIFY2(sinceStop.elapsed() < 1500, qPrintable(QString::number(sinceStop.elapsed())));
}

void tst_Cluster::callsKeepFlowingWhileZooKeeperIsDown()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    SampleServer a(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    Subscriber sub(zk.hosts());
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances().size(), 1, 10000);
    auto echo = sub.client.stub<Sample::EchoService>();
    zk.stop();
    QTRY_VERIFY_WITH_TIMEOUT(!sub.registry->isConnected(), 10000);
    QCOMPARE(answerers(*echo, 50), QSet<QString>{QString::number(a.port())});
}

void tst_Cluster::anEnsembleLosingItsLeaderFailsNoCall()
{
    QList<std::tuple<quint16, quint16, quint16>> peers;
    for (int i = 0; i < 3; ++i)
        peers.append({ZooKeeperServer::freePort(), ZooKeeperServer::freePort(), ZooKeeperServer::freePort()});
    std::vector<std::unique_ptr<ZooKeeperServer>> nodes;
    QStringList hosts;
    for (int i = 0; i < 3; ++i) {
        nodes.push_back(std::make_unique<ZooKeeperServer>(std::get<0>(peers.at(i))));
        nodes.back()->configureEnsemble(i + 1, peers);
        QVERIFY(nodes.back()->start());
        hosts << nodes.back()->hosts();
    }
    for (auto &n : nodes)
        QVERIFY2(n->waitReady(30000), qPrintable(n->log()));
    const QString ensemble = hosts.join(QLatin1Char(','));
    SampleServer a(ensemble, QStringLiteral("dev"), QStringLiteral("main"));
    SampleServer b(ensemble, QStringLiteral("dev"), QStringLiteral("main"));
    QVERIFY(a.port() && b.port());
    Subscriber sub(ensemble);
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances().size(), 2, 20000);
    auto echo = sub.client.stub<Sample::EchoService>();

    std::atomic<bool> running{true};
    std::atomic<int> calls{0}, failures{0};
    std::thread load([&] {
        while (running.load()) {
            try {
                echo->echo(QStringLiteral("load"));
            } catch (const RpcError &) {
                failures.fetch_add(1);
            }
            calls.fetch_add(1);
        }
    });
    // A failed check returns early: the load thread still stops and is joined (not terminate()).
    const auto stopLoad = qScopeGuard([&] {
        running.store(false);
        if (load.joinable())
            load.join();
    });
    QTRY_VERIFY(calls.load() > 100);
    // Kill the leader; the others elect a new one while calls go on.
    int leader = -1;
    for (int i = 0; i < 3; ++i) {
        QTcpSocket s;
        s.connectToHost(QStringLiteral("127.0.0.1"), nodes[size_t(i)]->port());
        if (s.waitForConnected(1000)) {
            s.write("srvr");
            QByteArray out;
            while (s.waitForReadyRead(1000))
                out += s.readAll();
            if (out.contains("Mode: leader"))
                leader = i;
        }
    }
    QVERIFY(leader >= 0);
    nodes[size_t(leader)]->stop();
    const int before = calls.load();
    QTRY_VERIFY_WITH_TIMEOUT(calls.load() > before + 500, 20000);
    // Registrations stay visible through the new leader.
    ZooKeeperRegistry reader(ensemble);
    reader.start();
    reader.subscribe(QStringLiteral("demo-rpc-service"), QStringLiteral("dev"));
    QTRY_COMPARE_WITH_TIMEOUT(reader.instances(QStringLiteral("demo-rpc-service"), QStringLiteral("dev")).size(), 2, 20000);
    running.store(false);
    load.join();
    QCOMPARE(failures.load(), 0);
}

void tst_Cluster::aTlsProviderIsCalledOverTlsWithoutBeingToldSo()
{
    TestCertificates certificates;
    QVERIFY2(certificates.make(), qPrintable(certificates.error()));
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    SampleServer secure(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"),
                        {QStringLiteral("--tomato-rpc.tls-cert=") + certificates.cert(QStringLiteral("server")),
                         QStringLiteral("--tomato-rpc.tls-key=") + certificates.key(QStringLiteral("server"))},
                        QStringLiteral("tls"));
    QVERIFY(secure.port());
    // The client's own transport is tcp: the registry tells it this instance speaks TLS.
    RpcConfig config = clientConfig();
    config.setTlsCa(certificates.ca());
    Subscriber sub(zk.hosts(), config);
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances(), QStringList{secure.address()}, 10000);
    QVERIFY(secure.address().startsWith(QLatin1String("tls://")));
    auto echo = sub.client.stub<Sample::EchoService>();
    QCOMPARE(answerers(*echo, 5), QSet<QString>{QString::number(secure.port())});

    // A client that does not trust the server's CA gets a clear error, not plain text.
    Subscriber untrusting(zk.hosts());
    QTRY_COMPARE_WITH_TIMEOUT(untrusting.instances().size(), 1, 10000);
    auto refused = untrusting.client.stub<Sample::EchoService>();
    try {
        refused->echo(QStringLiteral("x"));
        QFAIL("a call to an untrusted TLS server succeeded");
    } catch (const RpcError &e) {
        QCOMPARE(e.code(), RpcError::ConnectFailed);
        QVERIFY2(e.message().contains(QLatin1String("TLS handshake")), qPrintable(e.message()));
    }
}

void tst_Cluster::providersRegisteredWithCredentialsAreFoundByAnyClient()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    SampleServer a(QStringLiteral("zookeeper://ops:pw@") + zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    QVERIFY(a.port());
    Subscriber sub(zk.hosts()); // reads without credentials
    QTRY_COMPARE_WITH_TIMEOUT(sub.instances(), QStringList{a.address()}, 10000);
    auto echo = sub.client.stub<Sample::EchoService>();
    QCOMPARE(answerers(*echo, 3), QSet<QString>{QString::number(a.port())});
}

QTEST_GUILESS_MAIN(tst_Cluster)
#include "tst_cluster.moc"

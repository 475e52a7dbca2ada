// SPDX-License-Identifier: Apache-2.0
// The status pages of a node in a real cluster (docs/STATUS.md): a real ZooKeeper, sample
// servers in dev/main, dev/gray and prod/main, and this process as a node with clients of
// demo-rpc-service in each of those stages and groups. Its invoker page has exactly
// Tomato-RPC's shape (stages, then groups, then instances); its readiness waits for the
// registration; the sample servers answer status on their RPC ports.
#include "echoservice_stub.h"
#include "sampleserver.h"
#include "zookeeperserver.h"

#include <tomato/client/rpcclient.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>
#include <tomato/server/rpcserver.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtNetwork/QHostInfo>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtTest/QTest>

using namespace Tomato;

namespace {

const QString Service = QStringLiteral("demo-rpc-service");

struct Reply
{
    int status = 0;
    QByteArray body;
};

// A GET with QNetworkAccessManager: the status pages serve any HTTP client.
Reply get(QNetworkAccessManager &nam, const QString &url)
{
    QNetworkReply *reply = nam.get(QNetworkRequest(QUrl(url)));
    QDeadlineTimer deadline(10000);
    while (!reply->isFinished() && !deadline.hasExpired())
        QTest::qWait(5); // events: the reply is finished by this thread's event loop
    Reply r{reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll()};
    reply->deleteLater();
    return r;
}

// A client of demo-rpc-service in one stage and group, through ZooKeeper.
struct Caller
{
    Caller(const QString &zk, const QString &stage, const QString &group, quint16 statusPort = 0)
    {
        RpcConfig config;
        config.setStatusPort(statusPort);
        config.setStage(stage);
        config.setGroup(group);
        registry = std::make_unique<ZooKeeperRegistry>(zk, config);
        client = std::make_unique<RpcClient>(config);
        client->setRegistry(registry.get());
        echo = client->stub<Sample::EchoService>();
    }
    ~Caller() { client->setRegistry(nullptr); }
    std::unique_ptr<ZooKeeperRegistry> registry;
    std::unique_ptr<RpcClient> client;
    std::unique_ptr<Sample::EchoServiceStub> echo;
};

} // namespace

class tst_Status : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void theInvokerPageGroupsByStageThenGroup();
    void readinessWaitsForTheRegistration();
    void sampleServersAnswerStatusOnTheirRpcPort();
    void aClientOnlyNodeHasItsPagesOnItsStatusPort();

private:
    std::unique_ptr<ZooKeeperServer> m_zk;
    std::vector<std::unique_ptr<SampleServer>> m_servers;
    QNetworkAccessManager m_nam;
};

void tst_Status::initTestCase()
{
    m_zk = std::make_unique<ZooKeeperServer>();
    QVERIFY2(m_zk->start(), qPrintable(m_zk->log()));
    for (const auto &[stage, group] : {std::pair{"dev", "main"}, {"dev", "gray"}, {"prod", "main"}}) {
        m_servers.push_back(std::make_unique<SampleServer>(m_zk->hosts(), QLatin1String(stage), QLatin1String(group)));
        QVERIFY(m_servers.back()->port() != 0);
    }
}

void tst_Status::cleanupTestCase()
{
    m_servers.clear();
    m_zk.reset();
}

void tst_Status::theInvokerPageGroupsByStageThenGroup()
{
    // This process: a node serving nothing of its own, with clients in three places.
    RpcConfig config;
    config.setHost(QStringLiteral("127.0.0.1"));
    RpcServer node(config);
    QVERIFY(node.start());
    Caller devMain(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    Caller devGray(m_zk->hosts(), QStringLiteral("dev"), QStringLiteral("gray"));
    Caller prodMain(m_zk->hosts(), QStringLiteral("prod"), QStringLiteral("main"));
    for (Caller *c : {&devMain, &devGray, &prodMain}) {
        QTRY_COMPARE_WITH_TIMEOUT(c->client->instances(Service).size(), 1, 15000);
        QVERIFY(!c->echo->echo(QStringLiteral("hi")).isEmpty());
    }

    const Reply page = get(m_nam, QStringLiteral("http://127.0.0.1:%1/tomato/status/invoker?service-id=%2").arg(node.port()).arg(Service));
    QCOMPARE(page.status, 200);
    const QJsonArray stages = QJsonDocument::fromJson(page.body).array();
    QCOMPARE(stages.size(), 2);
    QCOMPARE(stages.at(0)[QLatin1String("stage")].toString(), QStringLiteral("dev"));
    QCOMPARE(stages.at(1)[QLatin1String("stage")].toString(), QStringLiteral("prod"));
    const QJsonObject dev = stages.at(0)[QLatin1String("groups")].toObject();
    QCOMPARE(dev.keys(), (QStringList{QStringLiteral("gray"), QStringLiteral("main")}));
    QCOMPARE(stages.at(1)[QLatin1String("groups")].toObject().keys(), QStringList{QStringLiteral("main")});
    // Each entry: Tomato-RPC's fields, right for the instance behind it.
    const struct { int stage; const char *group; int server; } where[] = {{0, "main", 0}, {0, "gray", 1}, {1, "main", 2}};
    for (const auto &w : where) {
        const QJsonArray list = stages.at(w.stage)[QLatin1String("groups")][QLatin1String(w.group)].toArray();
        QCOMPARE(list.size(), 1);
        const QJsonObject invoker = list.at(0).toObject();
        QCOMPARE(invoker.value(QStringLiteral("protocol")).toString(), QStringLiteral("tomato"));
        QCOMPARE(invoker.value(QStringLiteral("host")).toString(), QStringLiteral("127.0.0.1"));
        QCOMPARE(invoker.value(QStringLiteral("port")).toInt(), int(m_servers.at(size_t(w.server))->port()));
        QCOMPARE(invoker.value(QStringLiteral("microServiceId")).toString(), Service);
        QCOMPARE(invoker.value(QStringLiteral("stage")).toString(), stages.at(w.stage)[QLatin1String("stage")].toString());
        QCOMPARE(invoker.value(QStringLiteral("group")).toString(), QLatin1String(w.group));
        QCOMPARE(invoker.value(QStringLiteral("calls")).toInt(), 1);
        QCOMPARE(invoker.value(QStringLiteral("connected")).toBool(), true);
    }
    // The sample servers themselves call nobody: their pages are empty lists.
    const Reply empty = get(m_nam, QStringLiteral("http://127.0.0.1:%1/tomato/status/invoker?service-id=%2")
                                       .arg(m_servers.front()->port()).arg(Service));
    QCOMPARE(empty.status, 200);
    QCOMPARE(QJsonDocument::fromJson(empty.body).array(), QJsonArray());
}

void tst_Status::readinessWaitsForTheRegistration()
{
    // A registry that is not there yet: listening, but not registered, is not ready.
    ZooKeeperServer later;
    RpcConfig config;
    config.setHost(QStringLiteral("127.0.0.1"));
    config.setMicroServiceId(QStringLiteral("readiness-probe"));
    ZooKeeperRegistry registry(later.hosts(), config);
    RpcServer server(config);
    server.setRegistry(&registry);
    QVERIFY(server.start());
    const QString ready = QStringLiteral("http://127.0.0.1:%1/tomato/status/ready").arg(server.port());
    Reply r = get(m_nam, ready);
    QCOMPARE(r.status, 503);
    QCOMPARE(r.body, QByteArray("starting\n"));
    QCOMPARE(get(m_nam, QStringLiteral("http://127.0.0.1:%1/tomato/status/live").arg(server.port())).status, 200);
    QVERIFY2(later.start(), qPrintable(later.log()));
    QTRY_COMPARE_WITH_TIMEOUT(get(m_nam, ready).status, 200, 20000);
    server.stop();
    registry.stop();
}

void tst_Status::sampleServersAnswerStatusOnTheirRpcPort()
{
    const quint16 port = m_servers.front()->port();
    const Reply services = get(m_nam, QStringLiteral("http://127.0.0.1:%1/tomato/status/services").arg(port));
    QCOMPARE(services.status, 200);
    QStringList names;
    for (const QJsonValue &s : QJsonDocument::fromJson(services.body).array())
        names << s[QLatin1String("service")].toString();
    QVERIFY2(names.contains(QStringLiteral("Sample::EchoService")), qPrintable(names.join(QLatin1Char(','))));
    QVERIFY(names.contains(QStringLiteral("Sample::DemoService")));
    QVERIFY(names.contains(QStringLiteral("Tomato::Introspection")));
    const Reply node = get(m_nam, QStringLiteral("http://127.0.0.1:%1/tomato/status/node").arg(port));
    const QJsonObject self = QJsonDocument::fromJson(node.body).object();
    QCOMPARE(self.value(QStringLiteral("stage")).toString(), QStringLiteral("dev"));
    QCOMPARE(self.value(QStringLiteral("group")).toString(), QStringLiteral("main"));
    QCOMPARE(self.value(QStringLiteral("readiness")).toString(), QStringLiteral("ready"));
    QCOMPARE(self.value(QStringLiteral("registry"))[QLatin1String("registered")].toBool(), true);
    QCOMPARE(get(m_nam, QStringLiteral("http://127.0.0.1:%1/nope").arg(port)).status, 404);
}

void tst_Status::aClientOnlyNodeHasItsPagesOnItsStatusPort()
{
    const quint16 statusPort = ZooKeeperServer::freePort();
    Caller caller(m_zk->hosts(), QStringLiteral("prod"), QStringLiteral("main"), statusPort);
    QTRY_COMPARE_WITH_TIMEOUT(caller.client->instances(Service).size(), 1, 15000);
    QVERIFY(!caller.echo->echo(QStringLiteral("hi")).isEmpty());
    const Reply page = get(m_nam, QStringLiteral("http://127.0.0.1:%1/tomato/status/invoker?service-id=%2").arg(statusPort).arg(Service));
    QCOMPARE(page.status, 200);
    const QJsonArray stages = QJsonDocument::fromJson(page.body).array();
    QCOMPARE(stages.size(), 1);
    QCOMPARE(stages.at(0)[QLatin1String("groups")][QLatin1String("main")].toArray().size(), 1);
    // This process had servers and has none now: draining, not ready.
    {
        RpcServer gone;
    }
    const Reply ready = get(m_nam, QStringLiteral("http://127.0.0.1:%1/tomato/status/ready").arg(statusPort));
    QCOMPARE(ready.status, 503);
    QCOMPARE(ready.body, QByteArray("draining\n"));
    QCOMPARE(get(m_nam, QStringLiteral("http://127.0.0.1:%1/tomato/status/live").arg(statusPort)).status, 200);
    // Its consumer node says where its pages are, for a dashboard.
    QFuture<QList<RegistryServiceEntry>> tree = caller.registry->browse();
    QTRY_VERIFY_WITH_TIMEOUT(tree.isFinished(), 10000);
    QStringList statusAddresses;
    for (const RegistryServiceEntry &e : tree.result()) {
        for (const ConsumerInfo &c : e.consumers)
            statusAddresses << c.statusAddress;
    }
    QVERIFY2(statusAddresses.contains(QStringLiteral("%1:%2").arg(QHostInfo::localHostName()).arg(statusPort)),
             qPrintable(statusAddresses.join(QLatin1Char(','))));
}

QTEST_GUILESS_MAIN(tst_Status)
#include "tst_status.moc"

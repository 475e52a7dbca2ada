// SPDX-License-Identifier: Apache-2.0
// The cluster client in one process (docs/CLUSTER.md): real RpcServers on loopback sockets,
// found through a static registry; placement by each policy, failover and its limits, the
// caller's deadline over all attempts, cancellation stopping retries, heartbeats and the
// connect timeout against a peer that never answers.
#include "probeservice.h"
#include "probeservice_stub.h"
#include "rpcerrorof.h"

#include <tomato/client/rpcclient.h>
#include <tomato/registry/registryfactory.h>
#include <tomato/server/rpcserver.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QThread>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QTest>

#include <atomic>
#include <thread>

using namespace Tomato;
using ClusterTest::ProbeService;

namespace {

class ProbeImpl : public ProbeService
{
    Q_OBJECT
public:
    explicit ProbeImpl(QString name) : m_name(std::move(name)) {}
    QString whoAmI(const QString &) override { return m_name; }
    // Sleeps only on a server made frozen.
    QString slowWho(int ms) override
    {
        m_started.fetch_add(1);
        if (frozen)
            QThread::msleep(ulong(ms));
        return m_name;
    }
    std::atomic<bool> frozen{true};
    QString charge(int ms) override
    {
        m_started.fetch_add(1);
        QThread::msleep(ulong(ms));
        return m_name;
    }
    int started() const { return m_started.load(); }

private:
    QString m_name;
    std::atomic<int> m_started{0};
};

struct Probe
{
    explicit Probe(const QString &name) : impl(name)
    {
        RpcConfig config;
        config.setHost(QStringLiteral("127.0.0.1"));
        server = std::make_unique<RpcServer>(config);
        server->publish<ProbeService>(&impl);
        started = server->start();
    }
    QString address() const { return server->addresses().value(0).toString(); }
    ProbeImpl impl;
    std::unique_ptr<RpcServer> server;
    bool started = false;
};

// A client of probe-service over a static list of addresses.
struct Client
{
    Client(const QStringList &addresses, RpcConfig config)
    {
        config.setNameServiceUri(QStringLiteral("static://") + addresses.join(QLatin1Char(',')));
        config.setWarmupSeconds(0);
        registry = RegistryFactory().create(config);
        client = std::make_unique<RpcClient>(config);
        client->setRegistry(registry.get());
        probe = client->stub<ProbeService>();
    }
    quint64 calls() const
    {
        quint64 n = 0;
        for (const InvokerStats &s : client->invokers(QStringLiteral("probe-service")))
            n += s.calls;
        return n;
    }
    int inFlight() const
    {
        int n = 0;
        for (const InvokerStats &s : client->invokers(QStringLiteral("probe-service")))
            n += s.inFlight;
        return n;
    }
    std::unique_ptr<Registry> registry;
    std::unique_ptr<RpcClient> client;
    std::unique_ptr<ClusterTest::ProbeServiceStub> probe;
};

RpcConfig withPolicy(const QString &policy)
{
    RpcConfig c;
    c.setLoadBalance(policy);
    return c;
}

// Accepts connections and never answers: a frozen peer.
class SilentPeer
{
public:
    SilentPeer()
    {
        m_server.listen(QHostAddress::LocalHost);
        QObject::connect(&m_server, &QTcpServer::newConnection, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection())
                QObject::connect(s, &QTcpSocket::readyRead, s, [s] { s->readAll(); });
        });
    }
    QString address(const QString &scheme) const { return QStringLiteral("%1://127.0.0.1:%2").arg(scheme).arg(m_server.serverPort()); }

private:
    QTcpServer m_server;
};

} // namespace

class tst_ClusterClient : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void roundRobinGivesEachInstanceItsTurn();
    void consistentHashKeepsAKeyOnOneInstance();
    void everyPolicyReachesEveryInstance_data();
    void everyPolicyReachesEveryInstance();
    void anUnknownPolicyIsRefusedWhenTheStubIsMade();
    void failfastReportsADeadInstanceAndFailoverHidesIt();
    void retriesStopAtTheConfiguredNumber();
    void noUsableInstanceFailsAtOnceNamingEach();
    void aFrozenIdempotentAttemptLeavesTimeForAnother();
    void theDeadlineBoundsAllAttempts();
    void aNonIdempotentCallIsNotRetriedAfterATimeout();
    void clusterByMethodChoosesTheModePerMethod();
    void cancellingStopsTheRetries();
    void whenFinishedDeliversEveryOutcomeOnceOnTheContextThread();
    void aStubMadeOnAnotherThreadSubscribesOnTheClientThread();
    void twoUnansweredHeartbeatsDropTheConnection();
    void aConnectionNotMadeInTimeFailsConnectFailed();
};

void tst_ClusterClient::roundRobinGivesEachInstanceItsTurn()
{
    Probe a(QStringLiteral("a")), b(QStringLiteral("b")), c(QStringLiteral("c"));
    QVERIFY(a.started && b.started && c.started);
    Client client({a.address(), b.address(), c.address()}, withPolicy(QStringLiteral("round-robin")));
    QMap<QString, int> answers;
    for (int i = 0; i < 30; ++i)
        ++answers[client.probe->whoAmI(QString::number(i))];
    QCOMPARE(answers, (QMap<QString, int>{{QStringLiteral("a"), 10}, {QStringLiteral("b"), 10}, {QStringLiteral("c"), 10}}));
}

void tst_ClusterClient::consistentHashKeepsAKeyOnOneInstance()
{
    Probe a(QStringLiteral("a")), b(QStringLiteral("b")), c(QStringLiteral("c"));
    Client client({a.address(), b.address(), c.address()}, withPolicy(QStringLiteral("consistent-hash")));
    QSet<QString> owners;
    for (int key = 0; key < 30; ++key) {
        const QString first = client.probe->whoAmI(QStringLiteral("user-%1").arg(key)); // the first argument
        for (int i = 0; i < 5; ++i)
            QCOMPARE(client.probe->whoAmI(QStringLiteral("user-%1").arg(key)), first);
        owners.insert(first);
    }
    QCOMPARE(owners.size(), 3); // 30 keys spread over all three
    // An explicit hash key wins over the argument: varying arguments, one owner.
    const auto options = CallOptions().setHashKey("tenant-7");
    const QString owner = waitFor(client.probe->whoAmIAsync(QStringLiteral("x"), options));
    for (int i = 0; i < 20; ++i)
        QCOMPARE(waitFor(client.probe->whoAmIAsync(QString::number(i), options)), owner);
}

void tst_ClusterClient::everyPolicyReachesEveryInstance_data()
{
    QTest::addColumn<QString>("policy");
    for (const char *p : {"random", "round-robin", "least-in-flight", "consistent-hash"})
        QTest::newRow(p) << QString::fromLatin1(p);
}

void tst_ClusterClient::everyPolicyReachesEveryInstance()
{
    QFETCH(QString, policy);
    Probe a(QStringLiteral("a")), b(QStringLiteral("b"));
    Client client({a.address(), b.address()}, withPolicy(policy));
    QSet<QString> seen;
    for (int i = 0; i < 200 && seen.size() < 2; ++i)
        seen.insert(client.probe->whoAmI(QString::number(i)));
    QCOMPARE(seen.size(), 2);
}

void tst_ClusterClient::anUnknownPolicyIsRefusedWhenTheStubIsMade()
{
    RpcConfig config;
    config.setLoadBalanceByService({{QStringLiteral("probe-service"), QStringLiteral("fastest")}});
    RpcClient client(config);
    const RpcError e = errorOf([&] { client.stub<ProbeService>(); });
    QCOMPARE(e.code(), RpcError::BadArguments);
    QVERIFY2(e.message().contains(QLatin1String("'fastest'")) && e.message().contains(QLatin1String("round-robin")),
             qPrintable(e.message()));
}

// With round-robin over a dead and a live instance, failfast reports the dead one's
// ConnectFailed; failover sends that call to the live one.
void tst_ClusterClient::failfastReportsADeadInstanceAndFailoverHidesIt()
{
    Probe live(QStringLiteral("live"));
    QString deadAddress;
    {
        Probe dead(QStringLiteral("dead"));
        deadAddress = dead.address();
    } // its port now refuses connections
    for (const bool failover : {false, true}) {
        RpcConfig config = withPolicy(QStringLiteral("round-robin"));
        config.setCluster(failover ? QStringLiteral("failover") : QStringLiteral("failfast"));
        Client client({deadAddress, live.address()}, config);
        int connectFailed = 0;
        for (int i = 0; i < 4; ++i) {
            const RpcError::Code code = codeOf([&] { client.probe->whoAmI(QStringLiteral("k")); });
            QVERIFY(code == RpcError::Ok || code == RpcError::ConnectFailed);
            connectFailed += code == RpcError::ConnectFailed ? 1 : 0;
        }
        // failfast: the first call went to the dead one; then it backs off and is skipped.
        QCOMPARE(connectFailed, failover ? 0 : 1);
    }
}

void tst_ClusterClient::retriesStopAtTheConfiguredNumber()
{
    QStringList dead;
    for (int i = 0; i < 4; ++i) {
        Probe p(QStringLiteral("p"));
        dead << p.address();
    }
    RpcConfig config;
    config.setCluster(QStringLiteral("failover"));
    config.setRetries(2);
    Client client(dead, config);
    QCOMPARE(codeOf([&] { client.probe->whoAmI(QStringLiteral("k")); }), RpcError::ConnectFailed);
    QCOMPARE(client.calls(), quint64(3)); // the first attempt and two retries, each elsewhere
}

void tst_ClusterClient::noUsableInstanceFailsAtOnceNamingEach()
{
    QString deadAddress;
    {
        Probe dead(QStringLiteral("dead"));
        deadAddress = dead.address();
    }
    RpcConfig config;
    config.setReconnectBackoffMinMs(60000);
    config.setReconnectBackoffMaxMs(60000);
    Client client({deadAddress}, config);
    QCOMPARE(codeOf([&] { client.probe->whoAmI(QStringLiteral("k")); }), RpcError::ConnectFailed);
    QElapsedTimer t;
    t.start();
    const RpcError e = errorOf([&] { client.probe->whoAmI(QStringLiteral("k")); });
    QCOMPARE(e.code(), RpcError::NoProvider);
    QVERIFY2(e.message().contains(deadAddress.mid(6) + QLatin1String(" backoff")), qPrintable(e.message()));
    QVERIFY(t.elapsed() < 1000); // at once, not after a timeout

    RpcClient alone; // no registry: nothing known
    auto probe = alone.stub<ProbeService>();
    QCOMPARE(codeOf([&] { probe->whoAmI(QStringLiteral("k")); }), RpcError::NoProvider);
}

// An idempotent call to a frozen instance: its first attempt waits only its share of the
// deadline (1/3 with two retries), and the retry answers in time.
void tst_ClusterClient::aFrozenIdempotentAttemptLeavesTimeForAnother()
{
    Probe slow(QStringLiteral("slow")), quick(QStringLiteral("quick"));
    RpcConfig config = withPolicy(QStringLiteral("round-robin"));
    config.setCluster(QStringLiteral("failover"));
    config.setTimeoutMs(3000);
    Client client({slow.address(), quick.address()}, config);
    QCOMPARE(client.probe->whoAmI(QStringLiteral("warm")), QStringLiteral("slow")); // the next goes to slow
    QCOMPARE(client.probe->whoAmI(QStringLiteral("warm")), QStringLiteral("quick"));
    quick.impl.frozen = false;
    QElapsedTimer t;
    t.start();
    // Round-robin gives the first attempt to slow, which sleeps 5 s: it times out after its
    // share, 1000 ms, and the retry on quick answers at once.
    const QString who = waitFor(client.probe->slowWhoAsync(5000));
    QCOMPARE(who, QStringLiteral("quick"));
    QVERIFY2(t.elapsed() >= 900 && t.elapsed() < 2500, qPrintable(QString::number(t.elapsed())));
    QCOMPARE(slow.impl.started(), 1);
}

void tst_ClusterClient::theDeadlineBoundsAllAttempts()
{
    Probe a(QStringLiteral("a")), b(QStringLiteral("b")), c(QStringLiteral("c"));
    RpcConfig config;
    config.setCluster(QStringLiteral("failover"));
    config.setTimeoutMs(600);
    Client client({a.address(), b.address(), c.address()}, config);
    QElapsedTimer t;
    t.start();
    QCOMPARE(codeOf([&] { client.probe->slowWho(2000); }), RpcError::Timeout);
    // Three attempts (200 ms, then half of what is left, then the rest), each on another
    // instance: all within 600 ms (plus the 50 ms timer granularity).
    QVERIFY2(t.elapsed() < 1200, qPrintable(QString::number(t.elapsed())));
    QCOMPARE(client.calls(), quint64(3));
}

void tst_ClusterClient::aNonIdempotentCallIsNotRetriedAfterATimeout()
{
    Probe a(QStringLiteral("a")), b(QStringLiteral("b"));
    RpcConfig config;
    config.setCluster(QStringLiteral("failover"));
    config.setTimeoutMs(300);
    Client client({a.address(), b.address()}, config);
    QCOMPARE(codeOf([&] { client.probe->charge(1000); }), RpcError::Timeout);
    QCOMPARE(client.calls(), quint64(1));
    QCOMPARE(a.impl.started() + b.impl.started(), 1); // it ran at most once
    // The same method named idempotent by configuration is retried.
    config.setIdempotentMethods({{QStringLiteral("probe-service"), {QStringLiteral("charge")}}});
    Client retrying({a.address(), b.address()}, config);
    QCOMPARE(codeOf([&] { retrying.probe->charge(1000); }), RpcError::Timeout);
    // Three attempts on two instances: the other first, then any usable one again.
    QCOMPARE(retrying.calls(), quint64(3));
}

void tst_ClusterClient::clusterByMethodChoosesTheModePerMethod()
{
    QString deadAddress;
    {
        Probe dead(QStringLiteral("dead"));
        deadAddress = dead.address();
    }
    Probe live(QStringLiteral("live"));
    RpcConfig config = withPolicy(QStringLiteral("round-robin"));
    config.setCluster(QStringLiteral("failfast"));
    config.setClusterByMethod({{QStringLiteral("probe-service.whoAmI"), QStringLiteral("failover")}});
    config.setReconnectBackoffMinMs(0);
    config.setReconnectBackoffMaxMs(0);
    Client client({deadAddress, live.address()}, config);
    for (int i = 0; i < 4; ++i)
        QCOMPARE(client.probe->whoAmI(QStringLiteral("k")), QStringLiteral("live")); // failover
    int failed = 0;
    for (int i = 0; i < 4; ++i)
        failed += codeOf([&] { client.probe->charge(0); }) == RpcError::ConnectFailed ? 1 : 0; // failfast
    QCOMPARE(failed, 2);
}

// A call cancelled while its first attempt hangs is not retried.
void tst_ClusterClient::cancellingStopsTheRetries()
{
    Probe a(QStringLiteral("a")), b(QStringLiteral("b"));
    RpcConfig config;
    config.setCluster(QStringLiteral("failover"));
    config.setTimeoutMs(5000);
    Client client({a.address(), b.address()}, config);
    QFuture<QString> f = client.probe->slowWhoAsync(3000);
    QTRY_COMPARE(a.impl.started() + b.impl.started(), 1);
    f.cancel();
    QTRY_COMPARE(client.calls(), quint64(1)); // the attempt ended, Cancelled
    QCOMPARE(client.inFlight(), 0);            // and nothing went out again
    QCOMPARE(a.impl.started() + b.impl.started(), 1);
}

// Calls finish on the client's I/O threads while this thread attaches; each callback runs
// exactly once, here, with the value or the error.
void tst_ClusterClient::whenFinishedDeliversEveryOutcomeOnceOnTheContextThread()
{
    Probe a(QStringLiteral("a")), b(QStringLiteral("b"));
    RpcConfig config;
    config.setIoThreads(2);
    Client client({a.address(), b.address()}, config);
    QObject context;
    const int n = 5000;
    std::atomic<int> values{0};
    int calls = 0;
    bool elsewhere = false;
    for (int i = 0; i < n; ++i) {
        whenFinished(client.probe->whoAmIAsync(QString::number(i)), &context, [&](const QFuture<QString> &f) {
            ++calls;
            elsewhere = elsewhere || QThread::currentThread() != context.thread();
            const QString who = waitFor(f);
            if (who == QLatin1String("a") || who == QLatin1String("b"))
                ++values;
        });
    }
    QTRY_COMPARE_WITH_TIMEOUT(calls, n, 20000);
    QCOMPARE(values.load(), n);
    QVERIFY(!elsewhere);

    RpcClient alone; // no provider: the error arrives too
    auto probe = alone.stub<ProbeService>();
    RpcError::Code code = RpcError::Ok;
    whenFinished(probe->whoAmIAsync(QStringLiteral("k")), &context, [&](const QFuture<QString> &f) {
        code = codeOf([&] { waitFor(f); });
    });
    QTRY_COMPARE(code, RpcError::NoProvider);

    // A context gone first: nothing runs.
    bool ran = false;
    {
        QObject shortLived;
        whenFinished(client.probe->slowWhoAsync(300), &shortLived, [&](const QFuture<QString> &) { ran = true; });
    }
    QTest::qWait(600); // longer than the call: asserting that nothing happens
    QVERIFY(!ran);
}

void tst_ClusterClient::aStubMadeOnAnotherThreadSubscribesOnTheClientThread()
{
    Probe a(QStringLiteral("a")), b(QStringLiteral("b"));
    RpcConfig config;
    config.setNameServiceUri(QStringLiteral("static://") + a.address() + QLatin1Char(',') + b.address());
    auto registry = RegistryFactory().create(config);
    RpcClient client(config);
    client.setRegistry(registry.get()); // probe-service is not in subscribed-services
    std::unique_ptr<ClusterTest::ProbeServiceStub> probe;
    std::thread worker([&] { probe = client.stub<ProbeService>(); });
    worker.join();
    QTRY_COMPARE(client.instances(QStringLiteral("probe-service")).size(), 2); // once this thread ran
    QVERIFY(!probe->whoAmI(QStringLiteral("k")).isEmpty());
}

void tst_ClusterClient::twoUnansweredHeartbeatsDropTheConnection()
{
    SilentPeer peer;
    RpcConfig config;
    config.setClientKeepAliveMs(100);
    config.setTimeoutMs(20000);
    RpcClient client(config);
    auto probe = client.createDirectStub<ProbeService>(peer.address(QStringLiteral("tcp")));
    QElapsedTimer t;
    t.start();
    QCOMPARE(codeOf([&] { probe->whoAmI(QStringLiteral("k")); }), RpcError::ConnectionLost);
    // Silent for an interval: heartbeat 1; another: heartbeat 2; another: dead. ~300-400 ms.
    QVERIFY2(t.elapsed() >= 250 && t.elapsed() < 5000, qPrintable(QString::number(t.elapsed())));
}

void tst_ClusterClient::aConnectionNotMadeInTimeFailsConnectFailed()
{
    SilentPeer peer; // accepts TCP, never answers the TLS handshake
    RpcConfig config;
    config.setConnectTimeoutMs(300);
    config.setTimeoutMs(20000);
    RpcClient client(config);
    auto probe = client.createDirectStub<ProbeService>(peer.address(QStringLiteral("tls")));
    QElapsedTimer t;
    t.start();
    const RpcError e = errorOf([&] { probe->whoAmI(QStringLiteral("k")); });
    QCOMPARE(e.code(), RpcError::ConnectFailed);
    QVERIFY2(e.message().contains(QLatin1String("connect-timeout-ms")), qPrintable(e.message()));
    QVERIFY2(t.elapsed() >= 250 && t.elapsed() < 5000, qPrintable(QString::number(t.elapsed())));
}

QTEST_MAIN(tst_ClusterClient)
#include "tst_clusterclient.moc"

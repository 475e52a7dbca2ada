// SPDX-License-Identifier: Apache-2.0
// The cluster client under failure (docs/CLUSTER.md): real sample-server processes found
// through a real ZooKeeper, killed, stopped, frozen, overloaded and overridden while callers
// keep calling.
#include "demoservice_stub.h"
#include "echoservice_stub.h"
#include "sampleserver.h"
#include "zookeeperserver.h"

#include <tomato/client/rpcclient.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <zookeeper/zookeeper.h>

#include <atomic>
#include <csignal>
#include <thread>

using namespace Tomato;

namespace {

const QString Service = QStringLiteral("demo-rpc-service");

// A failover client of demo-rpc-service in dev/main that notices trouble fast.
RpcConfig failoverConfig()
{
    RpcConfig c;
    c.setStage(QStringLiteral("dev"));
    c.setGroup(QStringLiteral("main"));
    c.setSubscribedServices({Service});
    c.setCluster(QStringLiteral("failover"));
    c.setRetries(2);
    c.setTimeoutMs(3000);
    c.setClientKeepAliveMs(200);
    c.setConnectTimeoutMs(500);
    c.setReconnectBackoffMinMs(50);
    c.setReconnectBackoffMaxMs(500);
    c.setWarmupSeconds(0);
    c.setCircuitOpenSeconds(1);
    c.setRegistrySessionTimeoutMs(4000);
    return c;
}

struct Subscriber
{
    Subscriber(const QString &hosts, const RpcConfig &config)
        : registry(std::make_unique<ZooKeeperRegistry>(hosts, config)), client(config)
    {
        client.setRegistry(registry.get());
    }
    std::unique_ptr<ZooKeeperRegistry> registry;
    RpcClient client;
};

// Callers on threads of their own, each calling echo in a loop until stopped.
class Load
{
public:
    Load(RpcClient &client, int callers)
    {
        for (int i = 0; i < callers; ++i) {
            m_threads.emplace_back([this, &client] {
                auto echo = client.stub<Sample::EchoService>();
                while (!m_stop.load()) {
                    try {
                        echo->echo(QStringLiteral("x"));
                        ++m_ok;
                    } catch (const RpcError &e) {
                        ++m_failed;
                        QMutexLocker lock(&m_mutex);
                        if (m_errors.size() < 10)
                            m_errors << e.toString();
                    }
                }
            });
        }
    }
    ~Load() { stop(); }
    void stop()
    {
        m_stop = true;
        for (auto &t : m_threads) {
            if (t.joinable())
                t.join();
        }
    }
    int ok() const { return m_ok.load(); }
    int failed() const { return m_failed.load(); }
    QStringList errors() const
    {
        QMutexLocker lock(&m_mutex);
        return m_errors;
    }

private:
    std::vector<std::thread> m_threads;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_ok{0};
    std::atomic<int> m_failed{0};
    mutable QMutex m_mutex;
    QStringList m_errors;
};

// Calls the invokers of `address` (tcp://127.0.0.1:port) have ended, all of them summed, or
// of the newest one only.
quint64 callsTo(const RpcClient &client, const QString &address, bool newestOnly = false)
{
    quint64 calls = 0;
    QDateTime newest;
    for (const InvokerStats &s : client.invokers(Service)) {
        if (s.address != address)
            continue;
        if (newestOnly && s.startedAt < newest)
            continue;
        if (newestOnly && s.startedAt > newest) {
            newest = s.startedAt;
            calls = 0;
        }
        calls += s.calls;
    }
    return calls;
}

QString circuitOf(const RpcClient &client, const QString &address)
{
    for (const InvokerStats &s : client.invokers(Service)) {
        if (s.address == address)
            return s.circuit;
    }
    return QStringLiteral("(none)");
}

// The children of a ZooKeeper node, read with a session of its own.
QStringList childrenOf(const QString &hosts, const QString &path)
{
    zhandle_t *zh = zookeeper_init(hosts.toUtf8().constData(), nullptr, 10000, nullptr, nullptr, 0);
    QStringList out;
    QDeadlineTimer deadline(10000);
    while (zh && zoo_state(zh) != ZOO_CONNECTED_STATE && !deadline.hasExpired())
        QThread::msleep(20);
    String_vector v{};
    if (zh && zoo_get_children(zh, path.toUtf8().constData(), 0, &v) == ZOK) {
        for (int i = 0; i < v.count; ++i)
            out << QString::fromUtf8(v.data[i]);
        deallocate_String_vector(&v);
    }
    if (zh)
        zookeeper_close(zh);
    return out;
}

// Lets the load run for `ms` with this thread's event loop (the registry's) turning.
void run(int ms)
{
    QTest::qWait(ms);
}

} // namespace

class tst_Failover : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<QList<Tomato::InstanceInfo>>(); }
    void killedStoppedFrozenAndRestartedProvidersFailNoCall();
    void aNonIdempotentMethodIsNotRetriedAfterATimeout();
    void anOverloadedProviderIsOpenedProbedAndClosed();
    void anOverrideMovesTrafficAwayAndBack();
    void consumerNodesComeAndGoWithTheirClients();
};

// 3 providers under 16 callers of an idempotent method: one SIGKILLed and restarted on its
// port, one stopped gracefully, one frozen with SIGSTOP (found by heartbeats, not by its
// ZooKeeper session, which outlives the freeze) and resumed. No call may fail.
void tst_Failover::killedStoppedFrozenAndRestartedProvidersFailNoCall()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    const QStringList longSession{QStringLiteral("--tomato-rpc.registry-session-timeout-ms=20000")};
    auto a = std::make_unique<SampleServer>(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    SampleServer b(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    SampleServer c(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"), longSession);
    QVERIFY(a->port() && b.port() && c.port());
    const QString aAddress = a->address();
    const quint16 aPort = a->port();

    Subscriber sub(zk.hosts(), failoverConfig());
    QTRY_COMPARE_WITH_TIMEOUT(sub.client.instances(Service).size(), 3, 10000);
    Load load(sub.client, 16);
    QTRY_VERIFY_WITH_TIMEOUT(callsTo(sub.client, aAddress) > 0 && callsTo(sub.client, b.address()) > 0
                                 && callsTo(sub.client, c.address()) > 0, 10000);

    a->killHard(); // calls in flight there: ConnectionLost, retried elsewhere
    run(1000);
    const int okAfterKill = load.ok();
    a = std::make_unique<SampleServer>(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"), QStringList(),
                                       QStringLiteral("tcp"), aPort);
    QCOMPARE(a->port(), aPort);
    // The restarted instance has a new start time: a new invoker that takes calls.
    QTRY_VERIFY_WITH_TIMEOUT(callsTo(sub.client, aAddress, true) > 20, 10000);

    b.terminate(); // unregisters, answers ShuttingDown, drains
    run(1000);

    c.signal(SIGSTOP);
    run(2500); // its calls time out after their share of the deadline and go elsewhere
    QVERIFY2(load.ok() > okAfterKill, "calls kept flowing");
    const quint64 cBefore = callsTo(sub.client, c.address());
    c.signal(SIGCONT);
    QTRY_VERIFY_WITH_TIMEOUT(callsTo(sub.client, c.address()) > cBefore + 20, 15000);

    load.stop();
    qInfo("calls: %d ok, %d failed", load.ok(), load.failed());
    QVERIFY2(load.failed() == 0, qPrintable(load.errors().join(QLatin1Char('\n'))));
    QVERIFY(load.ok() > 1000);
}

// With two providers, one frozen: calls of an idempotent method sent to it are retried on the
// other; a non-idempotent one times out and is reported, not run twice.
void tst_Failover::aNonIdempotentMethodIsNotRetriedAfterATimeout()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    const QStringList longSession{QStringLiteral("--tomato-rpc.registry-session-timeout-ms=20000")};
    SampleServer frozen(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"), longSession);
    SampleServer healthy(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    RpcConfig config = failoverConfig();
    config.setLoadBalance(QStringLiteral("round-robin"));
    config.setTimeoutMs(600);
    config.setClientKeepAliveMs(0); // only the timeouts tell
    Subscriber sub(zk.hosts(), config);
    QTRY_COMPARE_WITH_TIMEOUT(sub.client.instances(Service).size(), 2, 10000);
    auto demo = sub.client.stub<Sample::DemoService>();
    auto echo = sub.client.stub<Sample::EchoService>();
    QCOMPARE(demo->sum({1, 2}), 3); // both connected
    QCOMPARE(demo->sum({1, 2}), 3);

    frozen.signal(SIGSTOP);
    int timeouts = 0;
    int answered = 0;
    for (int i = 0; i < 4; ++i) {
        try {
            QCOMPARE(demo->sum({1, 2, 3}), 6);
            ++answered;
        } catch (const RpcError &e) {
            QCOMPARE(e.code(), RpcError::Timeout);
            ++timeouts;
        }
    }
    // Round-robin sends about every other call to the frozen one (not exactly: under a loaded
    // machine an update of the instance list between calls restarts the rotation; one CI run
    // under the sanitizers saw 1 of 4). What matters: a call that timed out there surfaced as
    // Timeout, it was not retried elsewhere (failover would have answered it).
    QVERIFY2(timeouts >= 1, "no call went to the frozen instance");
    QCOMPARE(timeouts + answered, 4);
    for (int i = 0; i < 4; ++i)
        QVERIFY(echo->echo(QStringLiteral("still")).contains(QString::number(healthy.port())));
    frozen.signal(SIGCONT);
}

// A provider that answers Overloaded (the sample server's SIGUSR1 switch) has its calls moved
// to the other and its circuit opened; switched back, it is probed and closed again.
void tst_Failover::anOverloadedProviderIsOpenedProbedAndClosed()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    SampleServer shedding(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    SampleServer other(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    RpcConfig config = failoverConfig();
    config.setCircuitWindow(10);
    config.setCircuitMinCalls(5);
    config.setCircuitHalfOpenCalls(2);
    Subscriber sub(zk.hosts(), config);
    QTRY_COMPARE_WITH_TIMEOUT(sub.client.instances(Service).size(), 2, 10000);
    auto echo = sub.client.stub<Sample::EchoService>();

    shedding.signal(SIGUSR1);
    QTRY_VERIFY_WITH_TIMEOUT(shedding.output().contains("overloaded on"), 5000);
    for (int i = 0; i < 60 && circuitOf(sub.client, shedding.address()) != QLatin1String("open"); ++i)
        QVERIFY(echo->echo(QStringLiteral("x")).contains(QString::number(other.port()))); // retried there
    QCOMPARE(circuitOf(sub.client, shedding.address()), QStringLiteral("open"));
    bool overloadedSeen = false;
    for (const InvokerStats &s : sub.client.invokers(Service))
        overloadedSeen = overloadedSeen || (s.address == shedding.address() && s.errorsByCode.value(RpcError::Overloaded) > 0);
    QVERIFY(overloadedSeen);

    shedding.signal(SIGUSR1);
    QTRY_VERIFY_WITH_TIMEOUT(shedding.output().contains("overloaded off"), 5000);
    // After circuit-open-seconds the trial calls go through and close it.
    QTRY_VERIFY_WITH_TIMEOUT((echo->echo(QStringLiteral("x")), circuitOf(sub.client, shedding.address()) == QLatin1String("closed")), 10000);
    const quint64 before = callsTo(sub.client, shedding.address());
    for (int i = 0; i < 40; ++i)
        echo->echo(QStringLiteral("x"));
    QVERIFY(callsTo(sub.client, shedding.address()) > before);
}

// An operator disables an instance in ZooKeeper: all traffic leaves it within a second; the
// override removed, it comes back.
void tst_Failover::anOverrideMovesTrafficAwayAndBack()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    SampleServer first(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    SampleServer second(zk.hosts(), QStringLiteral("dev"), QStringLiteral("main"));
    RpcConfig config = failoverConfig();
    config.setLoadBalance(QStringLiteral("round-robin"));
    Subscriber sub(zk.hosts(), config);
    QTRY_COMPARE_WITH_TIMEOUT(sub.client.instances(Service).size(), 2, 10000);
    auto echo = sub.client.stub<Sample::EchoService>();
    const QString firstPort = QString::number(first.port());
    auto callsToFirst = [&] {
        int n = 0;
        for (int i = 0; i < 20; ++i)
            n += echo->echo(QStringLiteral("x")).contains(QLatin1Char(':') + firstPort + QLatin1Char(' ')) ? 1 : 0;
        return n;
    };
    QCOMPARE(callsToFirst(), 10);

    ZooKeeperRegistry operatorSide(zk.hosts(), failoverConfig());
    operatorSide.start();
    InstanceOverride disable;
    disable.disabled = true;
    QSignalSpy applied(&sub.client, &RpcClient::overridesChanged);
    QElapsedTimer sinceWritten;
    operatorSide.setOverride(Service, QStringLiteral("dev"), QStringLiteral("127.0.0.1:") + firstPort, disable);
    sinceWritten.start();
    QTRY_VERIFY_WITH_TIMEOUT(applied.count() >= 1, 5000);
    qInfo("override applied %lld ms after it was written", qint64(sinceWritten.elapsed()));
    QVERIFY(sinceWritten.elapsed() < 1000);
    QCOMPARE(callsToFirst(), 0);

    operatorSide.clearOverride(Service, QStringLiteral("dev"), QStringLiteral("127.0.0.1:") + firstPort);
    QTRY_VERIFY_WITH_TIMEOUT(applied.count() >= 2, 5000);
    QCOMPARE(callsToFirst(), 10);
}

// A client that subscribes announces itself under consumers/; it disappears with the client.
void tst_Failover::consumerNodesComeAndGoWithTheirClients()
{
    ZooKeeperServer zk;
    QVERIFY(zk.start());
    const QString consumers = ZooKeeperRegistry::consumersPath(Service, QStringLiteral("dev"));
    {
        Subscriber sub(zk.hosts(), failoverConfig());
        QTRY_VERIFY_WITH_TIMEOUT(childrenOf(zk.hosts(), consumers).size() == 1, 10000);
        const QString node = childrenOf(zk.hosts(), consumers).first();
        const auto consumer = ConsumerInfo::fromNodeName(node);
        QVERIFY2(consumer, qPrintable(node));
        QCOMPARE(consumer->group, QStringLiteral("main"));
        QCOMPARE(consumer->pid, QCoreApplication::applicationPid());
    }
    QTRY_VERIFY_WITH_TIMEOUT(childrenOf(zk.hosts(), consumers).isEmpty(), 10000);
}

QTEST_MAIN(tst_Failover)
#include "tst_failover.moc"

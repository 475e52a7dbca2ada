// SPDX-License-Identifier: Apache-2.0
// Load on the server side: the queue bounds (max-queued-calls, max-queued-per-connection) and
// the application's own switch (RpcServer::setOverloaded) answer new calls Overloaded at
// once, and the graceful stop keeps its order (unregister, refuse, drain, close). Every test
// runs over every transport (initTestCase_data: tcp, tls and unix), as tst_endtoend does.
// Nothing sleeps: calls are held at gates the test opens, and conditions are waited for
// with QTRY_*.
#include "rawclient.h"
#include "rpcerrorof.h"
#include "everytransport.h"
#include "testservice_stub.h"
#include "testserviceimpl.h"

#include <tomato/client/rpcclient.h>
#include <tomato/registry/staticregistry_p.h>
#include <tomato/server/rpcserver.h>

#include <QtCore/QDateTime>
#include <QtCore/QElapsedTimer>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtTest/QTest>

#include <algorithm>
#include <functional>
#include <thread>

using namespace Tomato;
using Test::TestService;

namespace {

using namespace EveryTransport;

// One business thread: one call runs at a time, the others wait in the queue.
RpcConfig queueingServerConfig()
{
    RpcConfig c = serverConfig();
    c.setBusinessThreads(1);
    return c;
}

// A registry that only tells the test what the server announces and withdraws, and when.
class RecordingRegistry : public StaticRegistry
{
public:
    RecordingRegistry() : StaticRegistry(QStringLiteral("static://127.0.0.1:1")) { }
    void registerInstance(const InstanceInfo &instance) override { registered.append(instance); }
    void unregisterInstance(const InstanceInfo &instance) override
    {
        unregistered.append(instance);
        if (onUnregister)
            onUnregister();
    }

    QList<InstanceInfo> registered, unregistered;
    std::function<void()> onUnregister; // runs inside RpcServer::stop()
};

// A server publishing TestServiceImpl, started on a free address of the current transport.
struct Fixture
{
    explicit Fixture(const RpcConfig &config, Registry *registry = nullptr)
        : server(config), impl(&gates)
    {
        server.publish<TestService>(&impl);
        server.setRegistry(registry);
        if (!server.start())
            qFatal("cannot start server: %s", qPrintable(server.errorString()));
    }
    Endpoint address() const { return server.addresses().first(); }

    Test::Gates gates;
    RpcServer server;
    Test::TestServiceImpl impl;
};

// Opens a gate when the test leaves its scope, passing or failing: a call held at it would
// otherwise keep the server's destructor waiting for its business thread.
struct OpenAtExit
{
    Test::Gates &gates;
    QString name;
    ~OpenAtExit() { gates.open(name); }
};

template<class T>
int finishedCount(const QList<QFuture<T>> &futures)
{
    return int(std::count_if(futures.cbegin(), futures.cend(), [](const QFuture<T> &f) { return f.isFinished(); }));
}

} // namespace

class tst_Backpressure : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase_data();
    void initTestCase();
    void cleanupTestCase();
    void callsBeyondTheServersBoundAreRefusedAtOnceAndTheConnectionLives();
    void aConnectionAtItsBoundIsRefusedWhileAnotherIsStillAdmitted();
    void theApplicationCanShedLoadAndResume();
    void stopUnregistersThenRefusesNewCallsThenFinishesRunningOnesThenCloses();
    void theAnnouncedInstanceCarriesItsStartTime();
};

void tst_Backpressure::initTestCase_data()
{
    addRows();
}

void tst_Backpressure::initTestCase()
{
    setUp();
}

void tst_Backpressure::cleanupTestCase()
{
    tearDown();
}

void tst_Backpressure::callsBeyondTheServersBoundAreRefusedAtOnceAndTheConnectionLives()
{
    RpcConfig config = queueingServerConfig();
    config.setMaxQueuedCalls(4);
    Fixture f(config);
    OpenAtExit open{f.gates, QStringLiteral("go")};
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());

    QList<QFuture<int>> calls;
    for (int i = 0; i < 10; ++i)
        calls.append(stub->waitAtGateAsync(QStringLiteral("go")));
    // The first four are admitted (one runs, three wait for the only business thread); the
    // other six are answered while the gate is still closed.
    QTRY_COMPARE(f.server.stats().callsReceived(), quint64(10));
    QTRY_COMPARE(finishedCount(calls), 6);
    for (int i = 0; i < 4; ++i)
        QVERIFY2(!calls.at(i).isFinished(), qPrintable(QString::number(i)));
    for (int i = 4; i < 10; ++i) {
        const RpcError e = errorOf([&] { waitFor(calls.at(i)); });
        QCOMPARE(e.code(), RpcError::Overloaded);
        QCOMPARE(e.message(), QStringLiteral("server overloaded: 4 calls queued (max-queued-calls)"));
        QVERIFY(RpcError::isRetryable(e.code()));
    }
    // The refusals are answered by the I/O thread, so they may all be out before the only
    // business thread has even entered the first call.
    QTRY_COMPARE(f.impl.gateCalls(), 1);
    QCOMPARE(f.server.stats().callsInFlight(), 4);
    QCOMPARE(f.server.stats().callsOverloaded(), quint64(6));

    // A refused call's arguments are never decoded: a body that is not even JSON gets
    // Overloaded, not BadArguments.
    RawClient raw;
    QVERIFY(raw.connectTo(f.address(), certificates->ca()));
    raw.request(1, "Test::TestService", "add", "not json");
    const auto refused = raw.readFrame();
    QVERIFY(refused);
    QCOMPARE(RawClient::extension(*refused).value("code").toInt(), int(RpcError::Overloaded));
    QCOMPARE(f.server.stats().callsOverloaded(), quint64(7));

    f.gates.open(QStringLiteral("go"));
    for (int i = 0; i < 4; ++i)
        QCOMPARE(waitFor(calls.at(i)), i + 1); // each ran, in order
    QTRY_COMPARE(f.server.stats().callsInFlight(), 0);
    // The connection that was refused is still the stub's, and works.
    QCOMPARE(stub->add(2, 40), 42);
    const ServerStats stats = f.server.stats();
    QCOMPARE(stats.connectionsAccepted(), quint64(2)); // the stub's and the raw peer's
    QCOMPARE(stats.callsOverloaded(), quint64(7));
    QTRY_COMPARE(f.server.stats().callsSucceeded(), quint64(5));
    QCOMPARE(f.server.stats().callsFailed(), quint64(7));
}

void tst_Backpressure::aConnectionAtItsBoundIsRefusedWhileAnotherIsStillAdmitted()
{
    RpcConfig config = queueingServerConfig();
    config.setMaxQueuedPerConnection(2);
    Fixture f(config);
    OpenAtExit openA{f.gates, QStringLiteral("a")};
    OpenAtExit openB{f.gates, QStringLiteral("b")};
    RpcClient client(clientConfig());
    auto a = client.createDirectStub<TestService>(f.address());
    auto b = client.createDirectStub<TestService>(f.address(), StubOptions().setConnection(1));

    QList<QFuture<int>> callsOfA;
    for (int i = 0; i < 3; ++i)
        callsOfA.append(a->waitAtGateAsync(QStringLiteral("a")));
    QTRY_COMPARE(finishedCount(callsOfA), 1);
    const RpcError e = errorOf([&] { waitFor(callsOfA.at(2)); });
    QCOMPARE(e.code(), RpcError::Overloaded);
    QCOMPARE(e.message(), QStringLiteral("connection overloaded: 2 calls of this connection queued "
                                         "(max-queued-per-connection)"));

    // The other connection has its own bound: its calls are admitted.
    QList<QFuture<int>> callsOfB;
    for (int i = 0; i < 2; ++i)
        callsOfB.append(b->waitAtGateAsync(QStringLiteral("b")));
    QTRY_COMPARE(f.server.stats().callsInFlight(), 4);
    QCOMPARE(finishedCount(callsOfB), 0);
    // ... while the first one stays at its bound.
    QCOMPARE(codeOf([&] { a->add(1, 1); }), RpcError::Overloaded);
    QCOMPARE(f.server.stats().callsOverloaded(), quint64(2));

    f.gates.open(QStringLiteral("a"));
    f.gates.open(QStringLiteral("b"));
    QVERIFY(waitFor(callsOfA.at(0)) > 0);
    QVERIFY(waitFor(callsOfA.at(1)) > 0);
    QVERIFY(waitFor(callsOfB.at(0)) > 0);
    QVERIFY(waitFor(callsOfB.at(1)) > 0);
    QCOMPARE(f.impl.gateCalls(), 4);
    QTRY_COMPARE(f.server.stats().callsInFlight(), 0);
    QCOMPARE(a->add(1, 1), 2);
    QCOMPARE(b->add(2, 2), 4);
    QCOMPARE(f.server.stats().connectionsAccepted(), quint64(2));
}

void tst_Backpressure::theApplicationCanShedLoadAndResume()
{
    Fixture f(queueingServerConfig());
    OpenAtExit open{f.gates, QStringLiteral("hold")};
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    QCOMPARE(stub->add(1, 2), 3);
    QVERIFY(!f.server.isOverloaded());

    QFuture<int> admitted = stub->waitAtGateAsync(QStringLiteral("hold"));
    QTRY_COMPARE(f.impl.gateCalls(), 1);
    f.server.setOverloaded(true);
    QVERIFY(f.server.isOverloaded());
    const RpcError e = errorOf([&] { stub->add(1, 2); });
    QCOMPARE(e.code(), RpcError::Overloaded);
    QCOMPARE(e.message(), QStringLiteral("the application says it is overloaded"));
    QCOMPARE(codeOf([&] { stub->echo(QStringLiteral("x")); }), RpcError::Overloaded);
    // A call admitted before still runs to its end.
    f.gates.open(QStringLiteral("hold"));
    QCOMPARE(waitFor(admitted), 1);

    // Any thread may turn it off.
    std::thread([&] { f.server.setOverloaded(false); }).join();
    QVERIFY(!f.server.isOverloaded());
    QCOMPARE(stub->add(2, 3), 5);
    QCOMPARE(f.server.stats().callsOverloaded(), quint64(2));
    QTRY_COMPARE(f.server.stats().callsSucceeded(), quint64(3));
}

void tst_Backpressure::stopUnregistersThenRefusesNewCallsThenFinishesRunningOnesThenCloses()
{
    const bool announced = transport() != QLatin1String("unix"); // a Unix socket is never announced
    RecordingRegistry registry;
    RpcConfig config = queueingServerConfig();
    config.setBusinessThreads(2); // one for the held call, one for the calls made during stop()
    Fixture f(config, &registry);
    OpenAtExit open{f.gates, QStringLiteral("drain")};
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    QCOMPARE(registry.registered.size(), announced ? 1 : 0);

    QFuture<int> running = stub->waitAtGateAsync(QStringLiteral("drain"));
    QTRY_COMPARE(f.impl.gateCalls(), 1);

    // 1. Unregistering comes first: meanwhile, the server still serves new calls.
    RpcError::Code whileUnregistering = RpcError::Internal;
    registry.onUnregister = [&] { whileUnregistering = codeOf([&] { stub->add(1, 1); }); };
    // 2. and 3. While stop() drains (it runs this thread's events), a new call is refused and
    // the running one is let go.
    RpcError::Code whileDraining = RpcError::Internal;
    bool drained = false;
    QTimer::singleShot(0, this, [&] {
        whileDraining = codeOf([&] { stub->add(2, 2); });
        drained = true;
        f.gates.open(QStringLiteral("drain"));
    });
    QElapsedTimer stopping;
    stopping.start();
    f.server.stop();
    // The drain ended when the running call did, long before drain-timeout-ms (10 s).
    QVERIFY2(stopping.elapsed() < 5000, qPrintable(QString::number(stopping.elapsed())));

    QVERIFY(drained);
    QCOMPARE(whileDraining, RpcError::ShuttingDown);
    if (announced) {
        QCOMPARE(registry.unregistered.size(), 1);
        QCOMPARE(registry.unregistered.first().port(), registry.registered.first().port());
        QCOMPARE(whileUnregistering, RpcError::Ok);
    } else {
        QVERIFY(registry.unregistered.isEmpty());
    }
    // 4. The running call's answer went out before its connection closed.
    int result = 0;
    const RpcError e = errorOf([&] { result = waitFor(running); });
    QVERIFY2(e.code() == RpcError::Ok, qPrintable(e.message()));
    QCOMPARE(result, 1);
    QVERIFY(!f.server.isRunning());
    QTRY_COMPARE(f.server.stats().connections(), 0);
    QCOMPARE(f.server.stats().callsInFlight(), 0);
}

void tst_Backpressure::theAnnouncedInstanceCarriesItsStartTime()
{
    if (transport() == QLatin1String("unix"))
        QSKIP("a server on a Unix socket only announces nothing");
    RecordingRegistry registry;
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    Fixture f(queueingServerConfig(), &registry);
    const qint64 after = QDateTime::currentMSecsSinceEpoch();
    QCOMPARE(registry.registered.size(), 1);
    const qint64 started = registry.registered.first().startTime();
    QVERIFY2(started >= before && started <= after,
             qPrintable(QStringLiteral("%1 not in [%2, %3]").arg(started).arg(before).arg(after)));
    QCOMPARE(f.server.instance().startTime(), started);

    // A restart is a new start.
    f.server.stop();
    const qint64 restartedAfter = QDateTime::currentMSecsSinceEpoch();
    QVERIFY(f.server.start());
    QCOMPARE(registry.registered.size(), 2);
    QVERIFY(registry.registered.last().startTime() >= restartedAfter);
}

QTEST_GUILESS_MAIN(tst_Backpressure)
#include "tst_backpressure.moc"

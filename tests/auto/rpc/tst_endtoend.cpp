// SPDX-License-Identifier: Apache-2.0
// End-to-end tests: a real RpcServer and RpcClient in this process, talking through
// generated stubs, plus a hand-driven raw peer for bad input. Every test runs over every
// transport (initTestCase_data: tcp, tls and unix), as Qt Remote Objects tests its backends.
#include "badservice.h"
#include "rawclient.h"
#include "rpcerrorof.h"
#include "everytransport.h"
#include "testservice_stub.h"
#include "testserviceimpl.h"

#include <tomato/client/rpcclient.h>
#include <tomato/server/rpcserver.h>

#include <QtConcurrent/QtConcurrent>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMutex>
#include <QtCore/QPointer>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>
#include <QtTest/QTest>

#include <sys/socket.h>
#include <thread>

using namespace Tomato;
using Test::TestService;

namespace {

using namespace EveryTransport;

// A server publishing TestServiceImpl, started on a free address of the current transport.
struct Fixture
{
    explicit Fixture(RpcConfig config = serverConfig())
        : server(config), impl(&gates)
    {
        server.publish<TestService>(&impl);
        if (!server.start())
            qFatal("cannot start server: %s", qPrintable(server.errorString()));
    }
    ~Fixture()
    {
        gates.open(QStringLiteral("*teardown*"));
    }
    Endpoint address() const { return server.addresses().first(); }
    bool connect(RawClient &raw) const { return raw.connectTo(address(), certificates->ca()); }

    Test::Gates gates;
    RpcServer server;
    Test::TestServiceImpl impl;
};

Test::Record fullRecord()
{
    Test::Record r;
    r.flag = true;
    r.big = std::numeric_limits<qint64>::min() + 1;
    r.small = 255;
    r.ratio = 0.1;
    r.text = QString::fromUtf8("tomato 🍅 \"quoted\" \\ end");
    r.blob = QByteArray("\x00\x01\xff binary", 11);
    r.when = QDateTime(QDate(2026, 11, 21), QTime(13, 53, 12, 345), Qt::UTC);
    r.id = QUuid::fromString(QStringLiteral("{6f1c2d0e-8d5a-4f7e-9a53-0b1f2c3d4e5f}"));
    r.tags = {QStringLiteral("a"), QStringLiteral(""), QStringLiteral("c:d&e")};
    r.items = {Test::Item{QStringLiteral("one"), 1}, Test::Item{QStringLiteral("two"), 2}};
    r.byName = {{QStringLiteral("x"), Test::Item{QStringLiteral("ex"), 10}}};
    r.counts = {{QStringLiteral("p"), 1}, {QStringLiteral("q"), -2}};
    r.extra = {{QStringLiteral("list"), QVariantList{1, QStringLiteral("two"), true}},
               {QStringLiteral("nested"), QVariantMap{{QStringLiteral("k"), 2.5}}}};
    return r;
}

} // namespace

class tst_EndToEnd : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase_data();
    void initTestCase();
    void cleanupTestCase();
    void callsBlockingAndThroughFutures();
    void voidAndConstMethodsWork();
    void everySupportedTypeRoundTrips_data();
    void everySupportedTypeRoundTrips();
    void thirtyTwoThreadsEachGetTheirOwnReplies();
    void manyCallsInFlightOnOneConnectionComplete();
    void largeByteArraysAndSmallCallsShareAConnectionIntact();
    void exceptionsCarryTheRemoteTypeAndMessage();
    void aCallWithoutAnswerTimesOutAndTheStubKeepsWorking();
    void cancellingAQueuedCallDropsItOnTheServer();
    void aRequestWhoseDeadlinePassedIsAnsweredWithoutRunning();
    void unknownServicesAndMethodsGetTheirOwnCodes();
    void wrongArgumentsAreRefused_data();
    void wrongArgumentsAreRefused();
    void unsupportedTypesAreRefusedAtPublishAndStubCreation();
    void anOversizedRequestIsRefusedAndTheConnectionLives();
    void aRequestOverTheClientLimitIsNotSent();
    void aMalformedStreamClosesOnlyThatConnection_data();
    void aMalformedStreamClosesOnlyThatConnection();
    void aPeerThatStopsMidFrameDisturbsNobody();
    void keepAliveRequestsAreAnswered();
    void aPeerThatStopsSendingStillGetsItsAnswers();
    void aPeerThatNeverReadsIsNoLongerReadFrom();
    void idleConnectionsAreClosedByTheServer();
    void objectThreadDispatchRunsOnTheObjectsThread();
    void ioThreadDispatchRunsOnTheIoThreadWithoutAHandOff();
    void aStubsQObjectMethodsStayLocal();
    void compressedBodiesRoundTrip_data();
    void compressedBodiesRoundTrip();
    void callsToAClosedPortFailWithConnectFailed();
    void callsInFlightFailWhenTheServerGoesAway();
    void theClientReconnectsAfterAServerRestart();
    void callsAfterTheClientIsDestroyedFailClearly();
    void aMethodSeesItsCallContext();
    void aLongMethodSeesItsCallerCancel();
    void aLongMethodSeesItsDeadlinePass();
    void aLongMethodSeesItsCallerGo();
    void debugLoggingShowsConnectionsAndCalls();
    void onlyTheInterfacesOwnMethodsAreRemote_data();
    void onlyTheInterfacesOwnMethodsAreRemote();
    void anInterfaceWithoutItsOwnMetaObjectIsRefused();
};

void tst_EndToEnd::initTestCase_data()
{
    addRows();
}

void tst_EndToEnd::initTestCase()
{
    setUp();
}

void tst_EndToEnd::cleanupTestCase()
{
    tearDown();
}

void tst_EndToEnd::callsBlockingAndThroughFutures()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    QCOMPARE(stub->echo(QStringLiteral("hello")), QStringLiteral("hello"));
    QCOMPARE(stub->add(2, 40), 42);
    QFuture<int> sum = stub->addAsync(1, 2);
    QFuture<QString> echo = stub->echoAsync(QStringLiteral("async"));
    QCOMPARE(sum.result(), 3);
    QCOMPARE(echo.result(), QStringLiteral("async"));
    QCOMPARE(stub->defaulted(QStringLiteral("x")), QStringLiteral("x7"));
    QCOMPARE(stub->defaulted(QStringLiteral("x"), 1), QStringLiteral("x1"));
    // Continuations work as on any QFuture.
    QCOMPARE(stub->addAsync(20, 1).then([](int v) { return v * 2; }).result(), 42);
}

void tst_EndToEnd::voidAndConstMethodsWork()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    stub->touch();
    stub->touch();
    QFuture<void> done = stub->touchAsync();
    done.waitForFinished();
    QVERIFY(done.isFinished() && !done.isCanceled());
    const TestService &constView = *stub;
    QCOMPARE(constView.touches(), 3);
    QCOMPARE(f.impl.touches(), 3);
}

void tst_EndToEnd::everySupportedTypeRoundTrips_data()
{
    QTest::addColumn<int>("serialization");
    QTest::newRow("binary (CBOR)") << int(Serialization::Binary);
    QTest::newRow("json") << int(Serialization::Json);
}

void tst_EndToEnd::everySupportedTypeRoundTrips()
{
    QFETCH(int, serialization);
    Fixture f;
    RpcClient client(clientConfig());
    StubOptions options;
    options.setSerialization(Serialization(serialization));
    auto stub = client.createDirectStub<TestService>(f.address(), options);

    const Test::Record record = fullRecord();
    const Test::Record back = stub->roundTrip(record);
    QCOMPARE(back.text, record.text);
    QCOMPARE(back.blob, record.blob);
    QCOMPARE(back.when, record.when);
    QCOMPARE(back.id, record.id);
    QCOMPARE(back.items, record.items);
    QCOMPARE(back.extra, record.extra);
    QVERIFY(back == record);
    QCOMPARE(stub->roundTrip(Test::Record()).text, QString());

    const QList<Test::Item> items = stub->items(5);
    QCOMPARE(items.size(), 5);
    QCOMPARE(items.at(4).name, QStringLiteral("item4"));

    const QVariantMap map{{QStringLiteral("n"), 1}, {QStringLiteral("s"), QStringLiteral("t")},
                          {QStringLiteral("l"), QVariantList{QStringLiteral("x"), 2}}};
    QCOMPARE(stub->mapEcho(map), map);
    QCOMPARE(stub->next(TestService::Color::Red), TestService::Color::Green);
    QCOMPARE(stub->next(TestService::Color::Green), TestService::Color::Blue);

    QByteArray big(300 * 1024, Qt::Uninitialized);
    for (int i = 0; i < big.size(); ++i)
        big[i] = char(i * 7);
    QCOMPARE(stub->bytes(big), big);
    QCOMPARE(stub->echo(QString()), QString());
}

void tst_EndToEnd::thirtyTwoThreadsEachGetTheirOwnReplies()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    std::atomic<int> mismatches{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 32; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i) {
                const QString mine = QStringLiteral("thread %1 call %2").arg(t).arg(i);
                try {
                    if (i % 2) {
                        if (stub->echo(mine) != mine)
                            mismatches.fetch_add(1);
                    } else if (stub->add(t, i) != t + i) {
                        mismatches.fetch_add(1);
                    }
                } catch (const RpcError &) {
                    failures.fetch_add(1);
                }
            }
        });
    }
    for (auto &t : threads)
        t.join();
    QCOMPARE(failures.load(), 0);
    QCOMPARE(mismatches.load(), 0);
    QTRY_COMPARE(f.server.stats().callsSucceeded(), quint64(3200));
}

void tst_EndToEnd::manyCallsInFlightOnOneConnectionComplete()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    QList<QFuture<int>> futures;
    for (int i = 0; i < 2000; ++i)
        futures.append(stub->addAsync(i, 1));
    for (int i = 0; i < futures.size(); ++i)
        QCOMPARE(futures[i].result(), i + 1);
    QCOMPARE(f.server.stats().connectionsAccepted(), quint64(1));
    // Another stub shares that connection; one with another connection index does not.
    auto same = client.createDirectStub<TestService>(f.address());
    QCOMPARE(same->add(1, 1), 2);
    QCOMPARE(f.server.stats().connectionsAccepted(), quint64(1));
    StubOptions separate;
    separate.setConnection(1);
    auto other = client.createDirectStub<TestService>(f.address(), separate);
    QCOMPARE(other->add(2, 2), 4);
    QCOMPARE(f.server.stats().connectionsAccepted(), quint64(2));
}

void tst_EndToEnd::largeByteArraysAndSmallCallsShareAConnectionIntact()
{
    // A byte array result of 64 KiB or more is sent from its own buffer after its frame's
    // head, and copied only when it must wait. Sizes on both sides of that line, some larger
    // than the kernel's buffers, in flight together with small calls on one connection.
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    const QList<qsizetype> sizes = {64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 1 << 20, 6 << 20, 3, 200 * 1024};
    QList<QByteArray> sent;
    QList<QFuture<QByteArray>> large;
    QList<QFuture<int>> small;
    for (int round = 0; round < 3; ++round) {
        for (const qsizetype size : sizes) {
            QByteArray data(size, Qt::Uninitialized);
            for (qsizetype i = 0; i < size; ++i)
                data[i] = char((i * 7 + size + round) % 251);
            sent.append(data);
            large.append(stub->bytesAsync(data));
            small.append(stub->addAsync(int(sent.size()), 1));
        }
    }
    for (qsizetype i = 0; i < large.size(); ++i) {
        QVERIFY2(large[i].result() == sent.at(i), qPrintable(QString::number(i)));
        QCOMPARE(small[i].result(), int(i) + 2);
    }
    QCOMPARE(f.server.stats().connectionsAccepted(), quint64(1));
}

void tst_EndToEnd::exceptionsCarryTheRemoteTypeAndMessage()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    RpcError e = errorOf([&] { stub->throwRuntimeError(QStringLiteral("boom: it broke")); });
    QCOMPARE(e.code(), RpcError::ApplicationException);
    QCOMPARE(e.remoteType(), QStringLiteral("std::runtime_error"));
    QCOMPARE(e.message(), QStringLiteral("boom: it broke"));
    QVERIFY(!RpcError::isRetryable(e.code()));

    QFuture<int> future = stub->throwCustomAsync(7);
    e = errorOf([&] { future.waitForFinished(); });
    QCOMPARE(e.code(), RpcError::ApplicationException);
    QCOMPARE(e.remoteType(), QStringLiteral("Test::QuotaExceeded"));
    QCOMPARE(e.message(), QStringLiteral("quota 7 exceeded"));
    QVERIFY(QString::fromUtf8(e.what()).contains(QLatin1String("quota 7 exceeded")));
    // The connection is fine afterwards.
    QCOMPARE(stub->echo(QStringLiteral("still here")), QStringLiteral("still here"));
}

void tst_EndToEnd::aCallWithoutAnswerTimesOutAndTheStubKeepsWorking()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    stub->setTimeout(std::chrono::milliseconds(200));
    const RpcError e = errorOf([&] { stub->waitAtGate(QStringLiteral("never")); });
    QCOMPARE(e.code(), RpcError::Timeout);
    QVERIFY(!RpcError::isRetryable(e.code()));
    // A per-call override beats the stub's timeout.
    CallOptions quick;
    quick.setTimeout(std::chrono::milliseconds(50));
    QCOMPARE(codeOf([&] { stub->waitAtGateAsync(QStringLiteral("never"), quick).waitForFinished(); }),
             RpcError::Timeout);
    QCOMPARE(client.callsInFlight(), 0);
    f.gates.open(QStringLiteral("never"));
    QCOMPARE(stub->echo(QStringLiteral("after")), QStringLiteral("after"));
}

void tst_EndToEnd::cancellingAQueuedCallDropsItOnTheServer()
{
    RpcConfig config = serverConfig();
    config.setBusinessThreads(1);
    Fixture f(config);
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    QFuture<int> first = stub->waitAtGateAsync(QStringLiteral("first"));
    QTRY_COMPARE(f.impl.gateCalls(), 1); // the only business thread is now busy
    QFuture<int> second = stub->waitAtGateAsync(QStringLiteral("second"));
    QTRY_COMPARE(f.server.stats().callsReceived(), quint64(2));
    second.cancel();
    QTRY_COMPARE(f.server.stats().cancelRequests(), quint64(1));
    QTRY_COMPARE(client.callsInFlight(), 1);
    f.gates.open(QStringLiteral("first"));
    QCOMPARE(first.result(), 1);
    QTRY_COMPARE(f.server.stats().callsCancelled(), quint64(1));
    QCOMPARE(f.impl.gateCalls(), 1); // the cancelled call never ran
    QVERIFY(second.isCanceled());
    QCOMPARE(codeOf([&] { waitFor(second); }), RpcError::Cancelled);
}

void tst_EndToEnd::aRequestWhoseDeadlinePassedIsAnsweredWithoutRunning()
{
    RpcConfig config = serverConfig();
    config.setBusinessThreads(1);
    Fixture f(config);
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.request(1, "Test::TestService", "waitAtGate", "[\"hold\"]");
    QTRY_COMPARE(f.impl.gateCalls(), 1);
    raw.request(2, "Test::TestService", "waitAtGate", "[\"late\"]", 1, 1);
    QTRY_COMPARE(f.server.stats().callsReceived(), quint64(2));
    QThread::msleep(5); // only makes sure the 1 ms budget is spent; nothing waits on a timer
    f.gates.open(QStringLiteral("hold"));
    std::optional<Frame> a = raw.readFrame();
    std::optional<Frame> b = raw.readFrame();
    QVERIFY(a && b);
    const Frame &late = a->messageId == 2 ? *a : *b;
    QCOMPARE(RawClient::extension(late).value("code").toInt(), int(RpcError::DeadlineExceeded));
    QCOMPARE(f.impl.gateCalls(), 1);
    QCOMPARE(f.server.stats().callsExpired(), quint64(1));
}

void tst_EndToEnd::unknownServicesAndMethodsGetTheirOwnCodes()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto unpublished = client.createDirectStub<Test::UnpublishedService>(f.address());
    const RpcError e = errorOf([&] { unpublished->anything(); });
    QCOMPARE(e.code(), RpcError::UnknownService);
    QVERIFY2(e.message().contains(QLatin1String("Test::UnpublishedService")), qPrintable(e.message()));
    QVERIFY2(e.message().contains(QLatin1String("Test::TestService")), qPrintable(e.message()));

    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.request(5, "Test::TestService", "noSuchMethod", "[]");
    const auto reply = raw.readFrame();
    QVERIFY(reply);
    QCOMPARE(reply->messageId, quint64(5));
    QCOMPARE(reply->command, quint16(Frame::Response));
    QCOMPARE(RawClient::extension(*reply).value("code").toInt(), int(RpcError::UnknownMethod));
    QVERIFY(RawClient::extension(*reply).value("message").contains("noSuchMethod"));
}

void tst_EndToEnd::wrongArgumentsAreRefused_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("serialization");
    QTest::addColumn<int>("code");
    QTest::newRow("number for a string") << QByteArray("echo") << QByteArray("[42]") << 1 << int(RpcError::BadArguments);
    QTest::newRow("too many arguments") << QByteArray("echo") << QByteArray("[\"a\",\"b\"]") << 1 << int(RpcError::BadArguments);
    QTest::newRow("too few arguments") << QByteArray("add") << QByteArray("[1]") << 1 << int(RpcError::BadArguments);
    QTest::newRow("not an array") << QByteArray("add") << QByteArray("{\"a\":1}") << 1 << int(RpcError::BadArguments);
    QTest::newRow("not JSON") << QByteArray("add") << QByteArray("[1,") << 1 << int(RpcError::BadArguments);
    QTest::newRow("garbage CBOR") << QByteArray("add") << QByteArray("\xff\xfe\x01", 3) << 0 << int(RpcError::BadArguments);
    QTest::newRow("gadget field of the wrong type") << QByteArray("roundTrip")
        << QByteArray("[{\"text\": [1, 2]}]") << 1 << int(RpcError::BadArguments);
    QTest::newRow("unknown serialization") << QByteArray("add") << QByteArray("[1,2]") << 9 << int(RpcError::UnsupportedSerialization);
}

void tst_EndToEnd::wrongArgumentsAreRefused()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, body);
    QFETCH(int, serialization);
    QFETCH(int, code);
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.request(11, "Test::TestService", method, body, quint8(serialization));
    const auto reply = raw.readFrame();
    QVERIFY(reply);
    QCOMPARE(reply->messageId, quint64(11));
    const Extension ext = RawClient::extension(*reply);
    QCOMPARE(ext.value("code").toInt(), code);
    QVERIFY(!ext.value("message").isEmpty());
    // The same connection still answers good calls.
    raw.request(12, "Test::TestService", "add", "[20,22]");
    const auto good = raw.readFrame();
    QVERIFY(good);
    QCOMPARE(good->body, QByteArray("42"));
    QCOMPARE(f.server.stats().protocolErrors(), quint64(0));
}

void tst_EndToEnd::unsupportedTypesAreRefusedAtPublishAndStubCreation()
{
    RpcServer server(serverConfig());
    Test::BadServiceImpl bad;
    RpcError e = errorOf([&] { server.publish<Test::BadService>(&bad); });
    QCOMPARE(e.code(), RpcError::BadArguments);
    QVERIFY2(e.message().contains(QLatin1String("QPoint")), qPrintable(e.message()));
    QVERIFY2(e.message().contains(QLatin1String("position")), qPrintable(e.message()));
    QVERIFY(server.services().isEmpty());

    RpcClient client(clientConfig());
    e = errorOf([&] {
        StubCore core(client.directChannel(client.endpoint(QStringLiteral("127.0.0.1:1"))),
                      Test::BadService::staticMetaObject, {"fine", "position"});
    });
    QCOMPARE(e.code(), RpcError::BadArguments);
    QVERIFY2(e.message().contains(QLatin1String("position(QPoint)")), qPrintable(e.message()));

    // An interface whose methods lack Q_INVOKABLE has no remote method: refused, saying why.
    Test::NoInvokableServiceImpl noInvokable;
    e = errorOf([&] { server.publish<Test::NoInvokableService>(&noInvokable); });
    QCOMPARE(e.code(), RpcError::BadArguments);
    QCOMPARE(e.message(), QStringLiteral("interface Test::NoInvokableService cannot be used remotely: it declares no "
                                         "public Q_INVOKABLE method (a pure virtual method without Q_INVOKABLE is "
                                         "invisible to moc: add Q_INVOKABLE)"));

    // An object that does not implement the interface is refused too.
    QObject notAService;
    e = errorOf([&] { server.publish(&notAService, TestService::staticMetaObject); });
    QCOMPARE(e.code(), RpcError::BadArguments);
}

void tst_EndToEnd::anOversizedRequestIsRefusedAndTheConnectionLives()
{
    RpcConfig config = serverConfig();
    config.setMaxFrameBytes(64 * 1024);
    Fixture f(config);
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    const RpcError e = errorOf([&] { stub->bytes(QByteArray(200 * 1024, 'x')); });
    QCOMPARE(e.code(), RpcError::FrameTooLarge);
    QVERIFY2(e.message().contains(QLatin1String("max-frame-bytes")), qPrintable(e.message()));
    QCOMPARE(stub->echo(QStringLiteral("next")), QStringLiteral("next"));
    QCOMPARE(f.server.stats().connectionsAccepted(), quint64(1));
}

void tst_EndToEnd::aRequestOverTheClientLimitIsNotSent()
{
    Fixture f;
    RpcConfig config = clientConfig();
    config.setMaxFrameBytes(4096);
    RpcClient client(config);
    auto stub = client.createDirectStub<TestService>(f.address());
    QCOMPARE(codeOf([&] { stub->bytes(QByteArray(8192, 'x')); }), RpcError::RequestTooLarge);
    QCOMPARE(f.server.stats().callsReceived(), quint64(0));
    // A reply over the client's limit fails that call only.
    QCOMPARE(codeOf([&] { stub->items(500); }), RpcError::FrameTooLarge);
    QCOMPARE(stub->add(1, 1), 2);
}

void tst_EndToEnd::aMalformedStreamClosesOnlyThatConnection_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("code");
    // (An HTTP request is a status request: docs/STATUS.md. A TLS hello on a plain port is not.)
    QTest::newRow("wrong magic") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello, server", 24)
                                 << int(RpcError::MalformedFrame);
    QByteArray v2;
    Frame::encode(v2, Frame::Request, 1, 1, {}, "[]", 2);
    QTest::newRow("version 2") << v2 << int(RpcError::UnsupportedVersion);
    QByteArray shortLen("\xAC\x00\x00\x00\x01", 5);
    QTest::newRow("impossible length") << shortLen << int(RpcError::MalformedFrame);
}

void tst_EndToEnd::aMalformedStreamClosesOnlyThatConnection()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, code);
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    QCOMPARE(stub->echo(QStringLiteral("before")), QStringLiteral("before"));
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.write(bytes);
    const auto error = raw.readFrame();
    QVERIFY(error);
    QCOMPARE(error->command, quint16(Frame::Error));
    QCOMPARE(RawClient::extension(*error).value("code").toInt(), code);
    QVERIFY(raw.waitForClose());
    QCOMPARE(stub->echo(QStringLiteral("after")), QStringLiteral("after"));
    QCOMPARE(f.server.stats().protocolErrors(), quint64(1));
    QTRY_COMPARE(f.server.stats().connections(), 1);
}

void tst_EndToEnd::aPeerThatStopsMidFrameDisturbsNobody()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    QList<QFuture<QString>> calls;
    for (int i = 0; i < 200; ++i)
        calls.append(stub->echoAsync(QString::number(i)));
    for (int round = 0; round < 5; ++round) {
        RawClient raw;
        QVERIFY(f.connect(raw));
        QByteArray frame;
        Frame::encode(frame, Frame::Request, 1, 1, "service:Test%3A%3ATestService&method:echo",
                      "[\"never finished\"]");
        raw.write(frame.left(frame.size() / 2 + round));
        raw.socket().abort();
        calls.append(stub->echoAsync(QStringLiteral("r%1").arg(round)));
    }
    for (int i = 0; i < 200; ++i)
        QCOMPARE(calls[i].result(), QString::number(i));
    for (int round = 0; round < 5; ++round)
        QCOMPARE(calls[200 + round].result(), QStringLiteral("r%1").arg(round));
    QTRY_COMPARE(f.server.stats().connections(), 1);
    QTRY_COMPARE(f.server.stats().callsInFlight(), 0);
}

void tst_EndToEnd::keepAliveRequestsAreAnswered()
{
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    QByteArray ping;
    Frame::encode(ping, Frame::KeepAliveRequest, 0, 77, {}, {});
    raw.write(ping);
    const auto pong = raw.readFrame();
    QVERIFY(pong);
    QCOMPARE(pong->command, quint16(Frame::KeepAliveResponse));
    QCOMPARE(pong->messageId, quint64(77));
}

void tst_EndToEnd::aPeerThatStopsSendingStillGetsItsAnswers()
{
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.request(1, "Test::TestService", "add", "[1,2]");
    raw.request(2, "Test::TestService", "waitAtGate", "[\"half\"]");
    // Half-close: nothing more from us (like `nc -N`), but we still read.
    QCOMPARE(::shutdown(int(raw.socket().socketDescriptor()), SHUT_WR), 0);
    QTRY_COMPARE(f.impl.gateCalls(), 1);
    f.gates.open(QStringLiteral("half"));
    QList<quint64> answered;
    for (int i = 0; i < 2; ++i) {
        const auto reply = raw.readFrame();
        QVERIFY(reply);
        QCOMPARE(RawClient::extension(*reply).value("code").toInt(), 0);
        answered << reply->messageId;
    }
    std::sort(answered.begin(), answered.end());
    QCOMPARE(answered, (QList<quint64>{1, 2}));
    QVERIFY(raw.waitForClose()); // and then the server closes
    QCOMPARE(f.server.stats().callsCancelled(), quint64(0));
    QTRY_COMPARE(f.server.stats().connections(), 0);
}

void tst_EndToEnd::aPeerThatNeverReadsIsNoLongerReadFrom()
{
    RpcConfig config = serverConfig();
    config.setMaxFrameBytes(128 * 1024); // the server buffers at most 2 x this per connection
    Fixture f(config);
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.socket().setReadBufferSize(1); // and we read nothing for now
    const int requests = 2000;         // each answer 50 KB: 100 MB if the server read them all
    QByteArray burst;
    for (int i = 1; i <= requests; ++i) {
        Extension ext;
        ext.insert("service", QByteArray("Test::TestService"));
        ext.insert("method", QByteArray("blob"));
        Frame::encode(burst, Frame::Request, 1, quint64(i), ext.encode(), "[50000]");
    }
    raw.socket().write(burst);
    // The server stops reading once its outbox for us is full; the rest waits in the kernel.
    QTRY_VERIFY(f.server.stats().callsReceived() > 10);
    quint64 received = 0;
    QDeadlineTimer settle(3000);
    while (!settle.hasExpired()) { // wait for the count to stop moving: a plateau, not a timer
        const quint64 now = f.server.stats().callsReceived();
        if (now == received && now > 0)
            break;
        received = now;
        QTest::qWait(200);
    }
    QVERIFY2(received < quint64(requests / 2), qPrintable(QString::number(received)));
    // Reading resumes it: every answer arrives.
    raw.socket().setReadBufferSize(0);
    int answers = 0;
    while (answers < requests) {
        const auto reply = raw.readFrame(10000);
        QVERIFY2(reply, qPrintable(QString::number(answers)));
        QCOMPARE(RawClient::extension(*reply).value("code").toInt(), 0);
        ++answers;
    }
    QCOMPARE(f.server.stats().callsReceived(), quint64(requests));
}

void tst_EndToEnd::idleConnectionsAreClosedByTheServer()
{
    RpcConfig config = serverConfig();
    config.setServerIdleCheckMs(200);
    Fixture f(config);
    RawClient raw;
    QVERIFY(f.connect(raw));
    QVERIFY(raw.waitForClose(5000));
    QTRY_COMPARE(f.server.stats().connections(), 0);
}

void tst_EndToEnd::objectThreadDispatchRunsOnTheObjectsThread()
{
    Test::Gates gates;
    QThread owner;
    owner.setObjectName(QStringLiteral("owner-thread"));
    auto *onThread = new Test::TestServiceImpl(&gates);
    onThread->moveToThread(&owner);
    connect(&owner, &QThread::finished, onThread, &QObject::deleteLater);
    owner.start();
    {
        RpcServer server(serverConfig());
        PublishOptions options;
        options.setDispatch(PublishOptions::Dispatch::ObjectThread);
        server.publish<TestService>(onThread, options);
        QVERIFY(server.start());
        RpcClient client(clientConfig());
        auto stub = client.createDirectStub<TestService>(server.addresses().first());
        QCOMPARE(stub->threadName(), QStringLiteral("owner-thread"));
    }
    {
        Fixture f;
        RpcClient client(clientConfig());
        auto stub = client.createDirectStub<TestService>(f.address());
        QVERIFY(stub->threadName() != QStringLiteral("owner-thread"));
    }
    owner.quit();
    owner.wait();
}

void tst_EndToEnd::ioThreadDispatchRunsOnTheIoThreadWithoutAHandOff()
{
    Test::Gates gates;
    Test::TestServiceImpl impl(&gates);
    RpcServer server(serverConfig());
    server.publish<TestService>(&impl, PublishOptions().setDispatch(PublishOptions::Dispatch::IoThread));
    QVERIFY(server.start());
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(server.addresses().first());
    const QString thread = stub->threadName();
    QVERIFY2(thread.startsWith(QLatin1String("tomato-srv-io")), qPrintable(thread));
    // A burst in flight on one connection: run in order on that thread, every one answered.
    QList<QFuture<QString>> burst;
    for (int i = 0; i < 500; ++i)
        burst.append(stub->echoAsync(QString::number(i)));
    for (int i = 0; i < burst.size(); ++i)
        QCOMPARE(waitFor(burst.at(i)), QString::number(i));
    // A large request is handed to the business pool all the same.
    QCOMPARE(stub->bytes(QByteArray(100 << 10, 'x')).size(), 100 << 10);
    // Errors travel as from any other dispatch.
    QCOMPARE(codeOf([&] { stub->throwRuntimeError(QStringLiteral("boom")); }), RpcError::ApplicationException);
    QCOMPARE(server.stats().callsReceived(), quint64(503));
}

void tst_EndToEnd::aStubsQObjectMethodsStayLocal()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    stub->setObjectName(QStringLiteral("local name"));
    QCOMPARE(stub->objectName(), QStringLiteral("local name"));
    QCOMPARE(stub->metaObject(), &TestService::staticMetaObject);
    QVERIFY(stub->inherits("Test::TestService"));
    stub->setProperty("dynamic", 5);
    QCOMPARE(stub->property("dynamic").toInt(), 5);
    QCOMPARE(f.server.stats().callsReceived(), quint64(0));
    // Invoking through the meta object goes remote, as a virtual call does.
    QString reply;
    QVERIFY(QMetaObject::invokeMethod(stub.get(), "echo", Q_RETURN_ARG(QString, reply),
                                      Q_ARG(QString, QStringLiteral("via meta object"))));
    QCOMPARE(reply, QStringLiteral("via meta object"));
    QCOMPARE(f.server.stats().callsReceived(), quint64(1));
}

void tst_EndToEnd::compressedBodiesRoundTrip_data()
{
    QTest::addColumn<QString>("compression");
    QTest::newRow("gzip") << QStringLiteral("gzip");
    QTest::newRow("zstd") << QStringLiteral("zstd");
}

void tst_EndToEnd::compressedBodiesRoundTrip()
{
    QFETCH(QString, compression);
    Fixture f;
    RpcConfig config = clientConfig();
    config.setCompression(compression);
    config.setCompressionThresholdBytes(100);
    RpcClient client(config);
    auto stub = client.createDirectStub<TestService>(f.address());
    const QByteArray big(512 * 1024, 'z');
    QCOMPARE(stub->bytes(big), big);
    QCOMPARE(stub->echo(QStringLiteral("small stays plain")), QStringLiteral("small stays plain"));
}

void tst_EndToEnd::callsToAClosedPortFailWithConnectFailed()
{
    Endpoint nobody;
    if (transport() == QLatin1String("unix")) {
        nobody = Endpoint::unixSocket(socketDir->filePath(QStringLiteral("nobody.sock")));
    } else {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        nobody = Endpoint(transport(), QStringLiteral("127.0.0.1"), probe.serverPort());
    }
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(nobody);
    const RpcError e = errorOf([&] { stub->echo(QStringLiteral("x")); });
    QCOMPARE(e.code(), RpcError::ConnectFailed);
    QVERIFY(RpcError::isRetryable(e.code()));
    QVERIFY2(e.message().contains(nobody.authority()), qPrintable(e.message()));
}

void tst_EndToEnd::callsInFlightFailWhenTheServerGoesAway()
{
    RpcConfig config = serverConfig();
    config.setDrainTimeoutMs(100);
    auto f = std::make_unique<Fixture>(config);
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f->address());
    QFuture<int> stuck = stub->waitAtGateAsync(QStringLiteral("stuck"));
    QTRY_COMPARE(f->impl.gateCalls(), 1);
    f->server.stop(); // drains for 100 ms, then closes the connection
    QCOMPARE(codeOf([&] { stuck.waitForFinished(); }), RpcError::ConnectionLost);
    f->gates.open(QStringLiteral("stuck"));
    f.reset();
}

void tst_EndToEnd::theClientReconnectsAfterAServerRestart()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    QCOMPARE(stub->add(1, 1), 2);
    f.server.stop();
    RpcConfig again = serverConfig();
    again.setListen({f.address().toString()}); // the same port, or the same socket file
    RpcServer second(again);
    second.publish<TestService>(&f.impl);
    QVERIFY2(second.start(), qPrintable(second.errorString()));
    // The first call may still find the old connection closing; the next one reconnects.
    QTRY_VERIFY(codeOf([&] { stub->add(2, 2); }) == RpcError::Ok);
    QCOMPARE(stub->add(3, 3), 6);
}

void tst_EndToEnd::callsAfterTheClientIsDestroyedFailClearly()
{
    Fixture f;
    std::unique_ptr<Test::TestServiceStub> stub;
    QFuture<int> stuck;
    {
        RpcClient client(clientConfig());
        stub = client.createDirectStub<TestService>(f.address());
        stuck = stub->waitAtGateAsync(QStringLiteral("client-gone"));
        QTRY_COMPARE(f.impl.gateCalls(), 1);
    }
    QCOMPARE(codeOf([&] { stuck.waitForFinished(); }), RpcError::ClientClosed);
    QCOMPARE(codeOf([&] { stub->echo(QStringLiteral("x")); }), RpcError::ClientClosed);
    f.gates.open(QStringLiteral("client-gone"));
}

void tst_EndToEnd::aMethodSeesItsCallContext()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    QVERIFY(!CallContext::current()); // outside a call
    const QVariantMap info = waitFor(stub->callInfoAsync(CallOptions()
                                                             .setTraceId("trace-42")
                                                             .addContext(QStringLiteral("user"), QStringLiteral("alice"))
                                                             .addContext(QStringLiteral("tenant"), QStringLiteral("a&b:c"))
                                                             .setTimeout(std::chrono::seconds(3))));
    QCOMPARE(info.value(QStringLiteral("service")).toString(), QStringLiteral("Test::TestService"));
    QCOMPARE(info.value(QStringLiteral("method")).toString(), QStringLiteral("callInfo"));
    QCOMPARE(info.value(QStringLiteral("traceId")).toString(), QStringLiteral("trace-42"));
    QCOMPARE(info.value(QStringLiteral("user")).toString(), QStringLiteral("alice"));
    QCOMPARE(info.value(QStringLiteral("context")).toMap(),
             (QVariantMap{{QStringLiteral("user"), QStringLiteral("alice")}, {QStringLiteral("tenant"), QStringLiteral("a&b:c")}}));
    const QString peer = info.value(QStringLiteral("peer")).toString();
    QVERIFY2(peer.startsWith(transport() == QLatin1String("unix") ? QStringLiteral("unix (pid ") : transport() + QLatin1String("://127.0.0.1:")),
             qPrintable(peer));
    QVERIFY(info.value(QStringLiteral("hasDeadline")).toBool());
    const qint64 left = info.value(QStringLiteral("timeLeftMs")).toLongLong();
    QVERIFY2(left > 0 && left <= 3000, qPrintable(QString::number(left)));
    QVERIFY(!info.value(QStringLiteral("cancelled")).toBool());
    QVERIFY(info.value(QStringLiteral("subject")).toString().isEmpty()); // no client certificate here
}

void tst_EndToEnd::aLongMethodSeesItsCallerCancel()
{
    Fixture f;
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<TestService>(f.address());
    QFuture<int> work = stub->workUntilCancelledAsync(20000);
    QTRY_COMPARE(f.impl.workStarted(), 1);
    work.cancel();
    QTRY_VERIFY(f.impl.sawCancel()); // the Cancel frame reached the running method
    QCOMPARE(codeOf([&] { waitFor(work); }), RpcError::Cancelled);
    QTRY_COMPARE(f.server.stats().callsInFlight(), 0);
}

// The server's side alone: a raw peer sends timeout-ms and never cancels, so only the
// deadline can stop the method. (Through a stub the caller's own timer fires at the same
// moment, and which of its Timeout and the early answer comes first is a race.)
void tst_EndToEnd::aLongMethodSeesItsDeadlinePass()
{
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.request(7, "Test::TestService", "workUntilCancelled", "[20000]", 1, 200);
    const std::optional<Frame> reply = raw.readFrame(10000);
    QVERIFY(reply);
    QCOMPARE(reply->messageId, quint64(7));
    QCOMPARE(RawClient::extension(*reply).value("code").toInt(), 0);
    const int worked = reply->body.toInt(); // ms the method worked before isCancelled()
    QVERIFY2(worked >= 100 && worked < 10000, reply->body.constData());
    QVERIFY(f.impl.sawCancel());
}

void tst_EndToEnd::aLongMethodSeesItsCallerGo()
{
    Fixture f;
    QFuture<int> work;
    {
        RpcClient client(clientConfig());
        auto stub = client.createDirectStub<TestService>(f.address());
        work = stub->workUntilCancelledAsync(20000);
        QTRY_COMPARE(f.impl.workStarted(), 1);
    } // the client, and its connection, go away: it cancels what it abandons
    // At once, not when the server gives up on a peer that closed its sending side (the
    // drain timeout, 10 s here).
    QCOMPARE(f.server.config().drainTimeoutMs(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(f.impl.sawCancel(), 3000);
}

namespace {
QStringList s_logged;
QMutex s_loggedMutex;
void collect(QtMsgType, const QMessageLogContext &context, const QString &message)
{
    QMutexLocker lock(&s_loggedMutex);
    s_logged << QString::fromLatin1(context.category) + QLatin1String(": ") + message;
}
} // namespace

void tst_EndToEnd::debugLoggingShowsConnectionsAndCalls()
{
    QLoggingCategory::setFilterRules(QStringLiteral("tomato.*.debug=true"));
    const QtMessageHandler previous = qInstallMessageHandler(collect);
    {
        Fixture f;
        RpcClient client(clientConfig());
        auto stub = client.createDirectStub<TestService>(f.address());
        QCOMPARE(stub->add(2, 3), 5);
        QCOMPARE(codeOf([&] { stub->throwRuntimeError(QStringLiteral("no")); }), RpcError::ApplicationException);
        QTRY_COMPARE(f.server.stats().callsInFlight(), 0);
    }
    qInstallMessageHandler(previous);
    QLoggingCategory::setFilterRules(QString());
    QMutexLocker lock(&s_loggedMutex);
    const QString all = s_logged.join(QLatin1Char('\n'));
    s_logged.clear();
    const QString scheme = transport() == QLatin1String("unix") ? QStringLiteral("unix") : transport() + QLatin1String("://");
    for (const QString &expected : {QStringLiteral("tomato.transport: accepted a connection from ") + scheme,
                                    QStringLiteral("tomato.transport: connected to ") + transport(),
                                    QStringLiteral("tomato.server: call 1 Test::TestService.add from ") + scheme,
                                    QStringLiteral("tomato.client: call 1 Test::TestService.add to ") + transport(),
                                    QStringLiteral("tomato.server: call 2 Test::TestService.throwRuntimeError from "),
                                    QStringLiteral("ApplicationException (no) in "),
                                    QStringLiteral("tomato.transport: closed the connection from ")}) {
        QVERIFY2(all.contains(expected), qPrintable(expected + QLatin1String("\nnot in:\n") + all));
    }
    QVERIFY2(!all.contains(QLatin1Char('"')), qPrintable(all)); // no QDebug quoting
}

void tst_EndToEnd::onlyTheInterfacesOwnMethodsAreRemote_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::newRow("deleteLater") << QByteArray("deleteLater");
    QTest::newRow("destroyed") << QByteArray("destroyed");
    QTest::newRow("objectNameChanged") << QByteArray("objectNameChanged");
    QTest::newRow("_q_reregisterTimers") << QByteArray("_q_reregisterTimers");
}

void tst_EndToEnd::onlyTheInterfacesOwnMethodsAreRemote()
{
    QFETCH(QByteArray, method);
    Fixture f;
    QPointer<QObject> alive(&f.impl);
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.request(3, "Test::TestService", method, "[]");
    const auto reply = raw.readFrame();
    QVERIFY(reply);
    QCOMPARE(RawClient::extension(*reply).value("code").toInt(), int(RpcError::UnknownMethod));
    QCoreApplication::processEvents(); // a deleteLater would have run here
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QVERIFY(alive);
    raw.request(4, "Test::TestService", "add", "[1,2]");
    const auto good = raw.readFrame();
    QVERIFY(good);
    QCOMPARE(good->body, QByteArray("3"));
}

void tst_EndToEnd::anInterfaceWithoutItsOwnMetaObjectIsRefused()
{
    RpcServer server(serverConfig());
    Test::TestServiceImpl impl(nullptr);
    // What publish<Interface>() would be handed for an interface class without Q_OBJECT (the
    // template form refuses that at compile time).
    const RpcError e = errorOf([&] { server.publish(&impl, QObject::staticMetaObject); });
    QCOMPARE(e.code(), RpcError::BadArguments);
    QVERIFY2(e.message().contains(QLatin1String("Q_OBJECT")), qPrintable(e.message()));
    QVERIFY(server.services().isEmpty());
}

QTEST_GUILESS_MAIN(tst_EndToEnd)
#include "tst_endtoend.moc"

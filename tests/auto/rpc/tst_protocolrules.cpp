// SPDX-License-Identifier: Apache-2.0
// The rules of docs/PROTOCOL.md that a client written from the page alone meets, each sent as
// the raw bytes such a client would write, to a real RpcServer over TCP: required keys, the
// grammar of timeout-ms and of the extension, exception-type, the serialization byte of
// bodiless frames, which commands a server accepts, an Error frame from a client, the idle
// close, a graceful stop, and an Error frame that must not be lost behind unread answers.
// Also unpublish(), which must wait for the calls running in the object.
#include "rawclient.h"
#include "rpcerrorof.h"
#include "testservice_stub.h"
#include "testserviceimpl.h"

#include <tomato/client/rpcclient.h>
#include <tomato/server/rpcserver.h>
#include <tomato/wire/message_p.h>

#include <QtCore/QThread>
#include <QtNetwork/QTcpServer>
#include <QtTest/QTest>

#include <atomic>
#include <thread>

using namespace Tomato;
using Test::TestService;

namespace {

RpcConfig plainConfig()
{
    RpcConfig c;
    c.setListen({QStringLiteral("tcp://127.0.0.1:0")});
    c.setMicroServiceId(QStringLiteral("test-service"));
    return c;
}

struct Fixture
{
    explicit Fixture(RpcConfig config = plainConfig())
        : server(config), impl(&gates)
    {
        server.publish<TestService>(&impl);
        if (!server.start())
            qFatal("cannot start server: %s", qPrintable(server.errorString()));
    }
    ~Fixture() { gates.open(QStringLiteral("*teardown*")); }
    Endpoint address() const { return server.addresses().first(); }
    bool connect(RawClient &raw) const { return raw.connectTo(address()); }

    Test::Gates gates;
    RpcServer server;
    Test::TestServiceImpl impl;
};

// A Request with exactly this extension text (no escaping done here) and a JSON body.
QByteArray request(quint64 id, const QByteArray &extension, const QByteArray &body, quint8 serialization = 1)
{
    QByteArray out;
    Frame::encode(out, Frame::Request, serialization, id, extension, body);
    return out;
}

QByteArray frame(quint16 command, quint64 id, quint8 serialization = 0)
{
    QByteArray out;
    Frame::encode(out, command, serialization, id, {}, {});
    return out;
}

int codeIn(const Frame &f)
{
    return RawClient::extension(f).value("code").toInt();
}

Frame parse(const QByteArray &bytes)
{
    FrameParser parser;
    parser.append(bytes);
    return parser.next() == FrameParser::Frame ? parser.takeFrame() : Frame();
}

// The connection still answers: an echo call on it gets its result.
bool stillAnswers(RawClient &raw, quint64 id)
{
    raw.request(id, "Test::TestService", "echo", "[\"still here\"]");
    const auto reply = raw.readFrame();
    return reply && reply->messageId == id && codeIn(*reply) == 0 && reply->body == "\"still here\"";
}

// An interface whose method unpublishes it: unpublish() must not wait for that very call.
class SelfUnpublisher : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "test-service")
public:
    using QObject::QObject;
    Q_INVOKABLE virtual bool leave() = 0;
};

class SelfUnpublisherImpl : public SelfUnpublisher
{
    Q_OBJECT
public:
    explicit SelfUnpublisherImpl(RpcServer *server) : m_server(server) {}
    bool leave() override { return m_server->unpublish(SelfUnpublisher::staticMetaObject); }

private:
    RpcServer *m_server;
};

constexpr char echoExtension[] = "service:Test%3A%3ATestService&method:echo";

} // namespace

class tst_ProtocolRules : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void aRequestNeedsServiceAndMethod_data();
    void aRequestNeedsServiceAndMethod();
    void timeoutMsIsDigitsOnly_data();
    void timeoutMsIsDigitsOnly();
    void extensionBytesOutsideTheSetMustBeEscaped_data();
    void extensionBytesOutsideTheSetMustBeEscaped();
    void exceptionTypeComesWithApplicationExceptionOnly();
    void whatTheFuzzersFoundStaysFixed();
    void bodilessFramesIgnoreTheirSerializationByte();
    void commandsAServerDoesNotAcceptAreBadRequests_data();
    void commandsAServerDoesNotAcceptAreBadRequests();
    void anErrorFrameFromTheClientClosesTheConnection();
    void aConnectionWithACallRunningIsNotIdle();
    void aGracefulStopOnTheWire();
    void theErrorFrameIsNotLostBehindUnreadAnswers();
    void aServersGoodbyeFailsEveryCallOnItShuttingDown();
    void unpublishWaitsForTheCallsRunningInTheObject();
    void unpublishGivesUpAtTheDrainTimeout();
    void aMethodMayUnpublishItsOwnInterface();
};

void tst_ProtocolRules::aRequestNeedsServiceAndMethod_data()
{
    QTest::addColumn<QByteArray>("extension");
    QTest::addColumn<QString>("missing");
    QTest::newRow("no service") << QByteArray("method:echo") << "service";
    QTest::newRow("empty service") << QByteArray("service:&method:echo") << "service";
    QTest::newRow("no method") << QByteArray("service:Test%3A%3ATestService") << "method";
    QTest::newRow("empty method") << QByteArray("service:Test%3A%3ATestService&method:") << "method";
    QTest::newRow("empty extension") << QByteArray() << "service";
}

void tst_ProtocolRules::aRequestNeedsServiceAndMethod()
{
    QFETCH(QByteArray, extension);
    QFETCH(QString, missing);
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.write(request(3, extension, "[\"x\"]"));
    const auto reply = raw.readFrame();
    QVERIFY(reply);
    QCOMPARE(reply->command, quint16(Frame::Response));
    QCOMPARE(reply->messageId, quint64(3));
    QCOMPARE(codeIn(*reply), int(RpcError::BadRequest)); // not 200: nothing to retry elsewhere
    QCOMPARE(RawClient::extension(*reply).value("message"), QStringLiteral("a Request needs a non-empty '%1'").arg(missing).toUtf8());
    QVERIFY(stillAnswers(raw, 4));
}

void tst_ProtocolRules::timeoutMsIsDigitsOnly_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<bool>("valid");
    QTest::newRow("5000") << QByteArray("5000") << true;
    QTest::newRow("leading zeros") << QByteArray("05000") << true;
    QTest::newRow("1") << QByteArray("1") << true;
    QTest::newRow("2^63-1") << QByteArray("9223372036854775807") << true;
    QTest::newRow("empty") << QByteArray("") << false;
    QTest::newRow("0") << QByteArray("0") << false;
    QTest::newRow("000") << QByteArray("000") << false;
    QTest::newRow("negative") << QByteArray("-1") << false;
    QTest::newRow("plus, escaped") << QByteArray("%2B5000") << false;
    QTest::newRow("space, escaped") << QByteArray("%205000") << false;
    QTest::newRow("trailing space, escaped") << QByteArray("5000%20") << false;
    QTest::newRow("exponent") << QByteArray("5e3") << false;
    QTest::newRow("fraction") << QByteArray("5000.5") << false;
    QTest::newRow("2^63") << QByteArray("9223372036854775808") << false;
    QTest::newRow("20 digits") << QByteArray("99999999999999999999") << false;
}

void tst_ProtocolRules::timeoutMsIsDigitsOnly()
{
    QFETCH(QByteArray, value);
    QFETCH(bool, valid);
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.write(request(9, QByteArray(echoExtension) + "&timeout-ms:" + value, "[\"on time\"]"));
    const auto reply = raw.readFrame();
    QVERIFY(reply);
    QCOMPARE(reply->messageId, quint64(9));
    if (valid) { // run, or refused for the deadline (1 ms may pass before it starts)
        QVERIFY2(codeIn(*reply) == 0 || codeIn(*reply) == int(RpcError::DeadlineExceeded),
                 RawClient::extension(*reply).value("message").constData());
        QVERIFY(codeIn(*reply) != 0 || reply->body == QByteArray("\"on time\""));
    } else {
        QCOMPARE(codeIn(*reply), int(RpcError::BadRequest));
        QVERIFY2(RawClient::extension(*reply).value("message").contains("is not a positive decimal integer"),
                 RawClient::extension(*reply).value("message").constData());
    }
}

void tst_ProtocolRules::extensionBytesOutsideTheSetMustBeEscaped_data()
{
    QTest::addColumn<QByteArray>("extension");
    QTest::newRow("unescaped colons in a value") << QByteArray("service:Test::TestService&method:echo");
    QTest::newRow("unescaped space") << QByteArray("service:Test%3A%3ATestService&method:echo&trace-id:a b");
    QTest::newRow("raw UTF-8") << QByteArray("service:Test%3A%3ATestService&method:echo&ctx.who:Jos\xc3\xa9");
    QTest::newRow("plus sign") << QByteArray("service:Test%3A%3ATestService&method:echo&timeout-ms:+5000");
}

void tst_ProtocolRules::extensionBytesOutsideTheSetMustBeEscaped()
{
    QFETCH(QByteArray, extension);
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.write(request(11, extension, "[\"x\"]"));
    const auto reply = raw.readFrame();
    QVERIFY(reply);
    QCOMPARE(reply->messageId, quint64(11));
    QCOMPARE(codeIn(*reply), int(RpcError::BadRequest));
    QVERIFY(RawClient::extension(*reply).value("message").contains("must be percent-escaped"));
    QVERIFY(stillAnswers(raw, 12));
}

void tst_ProtocolRules::exceptionTypeComesWithApplicationExceptionOnly()
{
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.write(request(1, "service:Test%3A%3ATestService&method:throwRuntimeError", "[\"boom\"]"));
    auto reply = raw.readFrame();
    QVERIFY(reply);
    QCOMPARE(codeIn(*reply), int(RpcError::ApplicationException));
    QCOMPARE(RawClient::extension(*reply).value("exception-type"), QByteArray("std::runtime_error"));
    raw.write(request(2, "service:Test%3A%3ATestService&method:noSuchMethod", "[]"));
    reply = raw.readFrame();
    QVERIFY(reply);
    QCOMPARE(codeIn(*reply), int(RpcError::UnknownMethod));
    QVERIFY(!RawClient::extension(*reply).contains("exception-type"));

    // Whatever a caller hands it, the encoder puts exception-type on 205 alone ...
    Extension ext;
    QString error;
    const Frame overloaded = parse(Message::errorResponse(1, 1, RpcError::Overloaded, QStringLiteral("busy"),
                                                          QStringLiteral("Some::Type")));
    QVERIFY(Extension::decode(overloaded.extension, &ext, &error));
    QCOMPARE(ext.value("code"), QByteArray("203"));
    QVERIFY(!ext.contains("exception-type"));
    // ... and the client reads it there alone.
    Message::ResponseHeader header;
    QVERIFY(Extension::decode("code:203&message:busy&exception-type:Some%3A%3AType", &ext, &error));
    QVERIFY(Message::readResponse(ext, &header, &error));
    QCOMPARE(header.code, RpcError::Overloaded);
    QVERIFY(header.exceptionType.isEmpty());
    QVERIFY(Extension::decode("code:205&message:m&exception-type:Some%3A%3AType", &ext, &error));
    QVERIFY(Message::readResponse(ext, &header, &error));
    QCOMPARE(header.exceptionType, QStringLiteral("Some::Type"));
}

void tst_ProtocolRules::whatTheFuzzersFoundStaysFixed()
{
    // (tests/fuzz: the inputs are also regression cases of the corpus.)
    // A code past 65535 once wrapped to 0 and read as a success.
    Extension ext;
    QString error;
    Message::ResponseHeader header;
    QVERIFY(Extension::decode("code:65536&message:m", &ext, &error));
    QVERIFY(Message::readResponse(ext, &header, &error));
    QCOMPARE(header.code, RpcError::Internal);
    QVERIFY2(header.message.contains(QLatin1String("65536")), qPrintable(header.message));
    // A bracket inside a host was taken, and its address did not read back.
    QVERIFY(!Endpoint::fromString(QStringLiteral("[[]]:2")).isValid());
    QVERIFY(Endpoint::fromString(QStringLiteral("[::1]:2")).isValid());
}

void tst_ProtocolRules::bodilessFramesIgnoreTheirSerializationByte()
{
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.write(frame(Frame::KeepAliveRequest, 21, 7));
    const auto pong = raw.readFrame();
    QVERIFY(pong);
    QCOMPARE(pong->command, quint16(Frame::KeepAliveResponse));
    QCOMPARE(pong->messageId, quint64(21));
    QCOMPARE(pong->serialization, quint8(7)); // the request's byte, repeated
    raw.write(frame(Frame::Cancel, 22, 9)); // an unknown id: nothing happens, nothing is said
    QVERIFY(stillAnswers(raw, 23));
    QCOMPARE(f.server.stats().cancelRequests(), quint64(1));
}

void tst_ProtocolRules::commandsAServerDoesNotAcceptAreBadRequests_data()
{
    QTest::addColumn<int>("command");
    QTest::newRow("Response") << int(Frame::Response);
    QTest::newRow("KeepAliveResponse") << int(Frame::KeepAliveResponse);
    QTest::newRow("unknown 9") << 9;
    QTest::newRow("unknown 65535") << 65535;
}

void tst_ProtocolRules::commandsAServerDoesNotAcceptAreBadRequests()
{
    QFETCH(int, command);
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.write(frame(quint16(command), 31));
    const auto reply = raw.readFrame();
    QVERIFY(reply);
    QCOMPARE(reply->command, quint16(Frame::Response));
    QCOMPARE(reply->messageId, quint64(31));
    QCOMPARE(codeIn(*reply), int(RpcError::BadRequest));
    QVERIFY(RawClient::extension(*reply).value("message").startsWith(
        QStringLiteral("command %1 is not one a server accepts").arg(command).toUtf8()));
    QVERIFY(stillAnswers(raw, 32));
}

void tst_ProtocolRules::anErrorFrameFromTheClientClosesTheConnection()
{
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    QVERIFY(stillAnswers(raw, 1));
    raw.write(Message::errorFrame(RpcError::Internal, QStringLiteral("the client gives up")));
    QVERIFY(!raw.readFrame(2000)); // no answer to it ...
    QVERIFY(raw.waitForClose());   // ... the server just closes
    QTRY_COMPARE(f.server.stats().connections(), 0);
}

void tst_ProtocolRules::aConnectionWithACallRunningIsNotIdle()
{
    RpcConfig config = plainConfig();
    config.setServerIdleCheckMs(200); // checked every 50 ms
    Fixture f(config);
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.request(1, "Test::TestService", "waitAtGate", "[\"idle\"]");
    QTRY_COMPARE(f.impl.gateCalls(), 1);
    // Five idle times with a call running and nothing received: still open.
    QDeadlineTimer quiet(1000);
    while (!quiet.hasExpired()) {
        QVERIFY(!raw.readFrame(int(qMax<qint64>(1, quiet.remainingTime())))); // nothing, and not closed
        QCOMPARE(raw.socket().state(), QAbstractSocket::ConnectedState);
    }
    QCOMPARE(f.server.stats().connections(), 1);
    f.gates.open(QStringLiteral("idle"));
    const auto reply = raw.readFrame();
    QVERIFY(reply);
    QCOMPARE(codeIn(*reply), 0);
    // Answered: now it is idle, and closed without an Error frame.
    QVERIFY(!raw.readFrame(5000));
    QVERIFY(raw.waitForClose(0));
    QTRY_COMPARE(f.server.stats().connections(), 0);
}

void tst_ProtocolRules::aGracefulStopOnTheWire()
{
    Fixture f;
    const Endpoint address = f.address();
    // The peer runs on a thread of its own: stop() blocks this one while it drains.
    std::atomic<bool> connected{false};
    QStringList failures;
    std::unique_ptr<QThread> peer(QThread::create([&] {
        const auto fail = [&](const QString &what) { failures << what; };
        RawClient raw;
        if (!raw.connectTo(address))
            return fail(QStringLiteral("cannot connect"));
        raw.request(1, "Test::TestService", "waitAtGate", "[\"drain\"]");
        connected = true;
        // The listener closes first: then new connections are refused ...
        QDeadlineTimer deadline(10000);
        while (true) {
            QTcpSocket probe;
            probe.connectToHost(address.host(), address.port());
            if (!probe.waitForConnected(1000))
                break;
            if (deadline.hasExpired())
                return fail(QStringLiteral("the listener stayed open"));
        }
        // ... and a Request on the open connection is answered ShuttingDown, unrun. (One sent in
        // the instant between the listener's close and the refusal could still run: send again.)
        int code = -1;
        for (quint64 id = 10; code != int(RpcError::ShuttingDown) && !deadline.hasExpired(); ++id) {
            raw.request(id, "Test::TestService", "echo", "[\"late\"]");
            const auto reply = raw.readFrame();
            if (!reply || reply->messageId != id)
                return fail(QStringLiteral("no answer to a request during the drain"));
            code = codeIn(*reply);
        }
        if (code != int(RpcError::ShuttingDown))
            return fail(QStringLiteral("no ShuttingDown"));
        // Keep-alives are still answered.
        raw.write(frame(Frame::KeepAliveRequest, 99));
        const auto pong = raw.readFrame();
        if (!pong || pong->command != Frame::KeepAliveResponse)
            return fail(QStringLiteral("no KeepAliveResponse during the drain"));
        // The call that was running finishes and is answered; then, owing nothing more, the
        // server says goodbye with an Error frame 204 (whatever got no answer did not run) and
        // closes.
        f.gates.open(QStringLiteral("drain"));
        const auto answer = raw.readFrame();
        if (!answer || answer->messageId != 1 || codeIn(*answer) != 0 || answer->body != "1")
            return fail(QStringLiteral("the running call was not answered"));
        const auto goodbye = raw.readFrame();
        if (!goodbye || goodbye->command != Frame::Error || codeIn(*goodbye) != int(RpcError::ShuttingDown)
            || goodbye->messageId != 0)
            return fail(QStringLiteral("no Error frame 204 after the last answer"));
        if (const auto more = raw.readFrame(5000))
            return fail(QStringLiteral("a frame after the Error frame: command %1").arg(more->command));
        if (!raw.waitForClose(0))
            return fail(QStringLiteral("the connection stayed open"));
    }));
    peer->start();
    QTRY_VERIFY(connected.load());
    QTRY_COMPARE(f.impl.gateCalls(), 1);
    f.server.stop(); // returns once drained
    QVERIFY(peer->wait(30000));
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1String("; "))));
    QCOMPARE(f.server.stats().connections(), 0);
}

void tst_ProtocolRules::theErrorFrameIsNotLostBehindUnreadAnswers()
{
    // Answers pile up unread (the peer's window is small), then the peer sends garbage: the
    // server must still say why it closes, after the answer it was writing, not lose it.
    Fixture f;
    RawClient raw;
    QVERIFY(f.connect(raw));
    // Small buffers on our side, the kernel's and QTcpSocket's own (which otherwise reads
    // everything that comes whenever the socket is waited on): the answers back up on the server.
    raw.socket().setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 16 * 1024);
    raw.socket().setReadBufferSize(16 * 1024);
    constexpr int Calls = 12;
    for (int i = 1; i <= Calls; ++i)
        raw.request(quint64(i), "Test::TestService", "blob", "[1048576]");
    QTRY_COMPARE(f.server.stats().callsSucceeded(), quint64(Calls)); // all answered, most not yet written
    raw.write(QByteArray("garbage!", 8) + QByteArray(16, 'x'));
    int answers = 0;
    std::optional<Frame> last;
    while (auto next = raw.readFrame(10000)) {
        if (next->command == Frame::Response) {
            QCOMPARE(codeIn(*next), 0);
            QVERIFY(next->body.size() > 1048576); // whole: the MiB, in base64 and quotes
            ++answers;
        }
        last = std::move(next);
        if (last->command == Frame::Error)
            break;
    }
    QVERIFY(last);
    QCOMPARE(last->command, quint16(Frame::Error));
    QCOMPARE(codeIn(*last), int(RpcError::MalformedFrame));
    QVERIFY2(answers < Calls, "all answers were written before the garbage came: the test proves nothing");
    QVERIFY(raw.waitForClose());
    QTRY_COMPARE(f.server.stats().connections(), 0);
}

void tst_ProtocolRules::aServersGoodbyeFailsEveryCallOnItShuttingDown()
{
    // A peer that says goodbye (Error frame 204) and closes at once, before reading anything:
    // the client's call, whether it reads the goodbye first or finds the connection closed
    // when it writes, must fail with the goodbye's code (it did not run, failover may retry
    // it), never ConnectionLost.
    QTcpServer peer;
    QVERIFY(peer.listen(QHostAddress::LocalHost));
    QObject::connect(&peer, &QTcpServer::newConnection, &peer, [&peer] {
        while (QTcpSocket *s = peer.nextPendingConnection()) {
            s->write(Message::errorFrame(RpcError::ShuttingDown, QStringLiteral("goodbye")));
            s->disconnectFromHost();
            QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
        }
    });
    for (int round = 0; round < 20; ++round) {
        RpcClient client;
        auto stub = client.createDirectStub<TestService>(QStringLiteral("127.0.0.1"), peer.serverPort());
        QFuture<QString> call = stub->echoAsync(QStringLiteral("hello"));
        QTRY_VERIFY(call.isFinished());
        const RpcError e = errorOf([&] { Tomato::waitFor(call); });
        QVERIFY2(e.code() == RpcError::ShuttingDown, qPrintable(QStringLiteral("round %1: %2").arg(round).arg(e.toString())));
    }
}

void tst_ProtocolRules::unpublishWaitsForTheCallsRunningInTheObject()
{
    RpcConfig config = plainConfig();
    config.setBusinessThreads(1);
    Fixture f(config);
    RpcClient client;
    auto stub = client.createDirectStub<TestService>(f.address());
    QFuture<int> running = stub->waitAtGateAsync(QStringLiteral("unpublish"));
    QTRY_COMPARE(f.impl.gateCalls(), 1);
    QFuture<QString> queued = stub->echoAsync(QStringLiteral("queued")); // waits for the one thread
    QTRY_COMPARE(f.server.stats().callsReceived(), quint64(2));

    std::atomic<bool> unpublishing{false};
    std::atomic<bool> opened{false};
    std::thread opener([&] {
        while (!unpublishing.load())
            std::this_thread::yield();
        opened = true;
        f.gates.open(QStringLiteral("unpublish"));
    });
    unpublishing = true;
    QVERIFY(f.server.unpublish(TestService::staticMetaObject));
    // It returned only after the running call had left the object's method.
    QVERIFY(opened.load());
    opener.join();
    QCOMPARE(running.result(), 1);
    // The queued call never reached the object.
    const RpcError e = errorOf([&] { queued.result(); });
    QCOMPARE(e.code(), RpcError::UnknownService);
    QVERIFY2(e.message().contains(QLatin1String("no longer published")), qPrintable(e.message()));
    QCOMPARE(errorOf([&] { stub->echo(QStringLiteral("after")); }).code(), RpcError::UnknownService);
    QVERIFY(!f.server.unpublish(TestService::staticMetaObject)); // nothing left to unpublish
}

void tst_ProtocolRules::unpublishGivesUpAtTheDrainTimeout()
{
    RpcConfig config = plainConfig();
    config.setDrainTimeoutMs(300);
    Fixture f(config);
    RpcClient client;
    auto stub = client.createDirectStub<TestService>(f.address());
    QFuture<int> running = stub->waitAtGateAsync(QStringLiteral("stuck"));
    QTRY_COMPARE(f.impl.gateCalls(), 1);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(
        "unpublished Test::TestService with 1 call\\(s\\) still running after drain-timeout-ms \\(300 ms\\)")));
    QVERIFY(!f.server.unpublish(TestService::staticMetaObject));
    f.gates.open(QStringLiteral("stuck"));
    QCOMPARE(running.result(), 1); // the object lived on, as it must
}

void tst_ProtocolRules::aMethodMayUnpublishItsOwnInterface()
{
    RpcConfig config = plainConfig();
    config.setDrainTimeoutMs(60000); // were its own call waited for, no answer for a minute
    Fixture f(config);
    SelfUnpublisherImpl self(&f.server);
    f.server.publish<SelfUnpublisher>(&self);
    RawClient raw;
    QVERIFY(f.connect(raw));
    raw.write(request(1, "service:SelfUnpublisher&method:leave", "[]"));
    const auto reply = raw.readFrame(10000);
    QVERIFY(reply);
    QCOMPARE(codeIn(*reply), 0);
    QCOMPARE(reply->body, QByteArray("true"));
    QVERIFY(!f.server.services().contains(QStringLiteral("SelfUnpublisher")));
    raw.write(request(2, "service:SelfUnpublisher&method:leave", "[]"));
    const auto after = raw.readFrame();
    QVERIFY(after);
    QCOMPARE(codeIn(*after), int(RpcError::UnknownService));
}

QTEST_GUILESS_MAIN(tst_ProtocolRules)
#include "tst_protocolrules.moc"

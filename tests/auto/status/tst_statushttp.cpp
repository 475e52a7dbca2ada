// SPDX-License-Identifier: Apache-2.0
// The status pages over HTTP: the status port (one listener per port in the process, shared
// and released) and the HTTP connections behind it: the pages, the limits (400, 413, 414, 431,
// 505), keep-alive and pipelining, slow and vanishing peers. Real loopback sockets; timeouts
// are waited for with deadlines, never slept through.
#include <tomato/status/httpconnection_p.h>
#include <tomato/status/metrics_p.h>
#include <tomato/status/statusport_p.h>
#include <tomato/transport/tcptransport_p.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkProxy>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QTest>

#include <memory>
#include <sys/socket.h>

using namespace Tomato;

namespace {

constexpr int Deadline = 10000; // ms: far more than any loopback answer needs
const QByteArray LiveRequest = "GET /tomato/status/live HTTP/1.1\r\nHost: test\r\n\r\n";

struct Answer
{
    int status = 0;
    QHash<QByteArray, QByteArray> headers; // names in lower case
    QByteArray body;

    QByteArray header(const char *name) const { return headers.value(QByteArray(name).toLower()); }
};

// A raw HTTP client: sends bytes exactly as given, reads the answers one by one.
class RawPeer
{
public:
    explicit RawPeer(quint16 port)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        m_socket.waitForConnected(Deadline);
    }

    QTcpSocket &socket() { return m_socket; }
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    void send(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.flush();
    }

    // The next answer (one to HEAD has no body); false when none came whole in time.
    bool read(Answer *answer, bool head = false)
    {
        const QDeadlineTimer deadline(Deadline);
        while (!parse(answer, head)) {
            if (!isConnected() || deadline.hasExpired())
                return parse(answer, head);
            receive(deadline);
        }
        return true;
    }

    // Whether the server closed the connection within `ms` (what it sent first is kept).
    bool waitForClose(int ms = Deadline)
    {
        const QDeadlineTimer deadline(ms);
        while (isConnected() && !deadline.hasExpired())
            receive(deadline);
        m_buffer += m_socket.readAll();
        return !isConnected();
    }

    QByteArray unread() const { return m_buffer; }

private:
    // Runs the event loop (an HttpConnection may live on this thread) until bytes or the end
    // arrive.
    void receive(const QDeadlineTimer &deadline)
    {
        if (m_socket.bytesAvailable() == 0 && isConnected()) {
            QEventLoop loop;
            QTimer::singleShot(qBound(qint64(1), deadline.remainingTime(), qint64(Deadline)), &loop, &QEventLoop::quit);
            QObject::connect(&m_socket, &QTcpSocket::readyRead, &loop, &QEventLoop::quit);
            QObject::connect(&m_socket, &QTcpSocket::disconnected, &loop, &QEventLoop::quit);
            loop.exec();
        }
        m_buffer += m_socket.readAll();
    }

    bool parse(Answer *answer, bool head)
    {
        const qsizetype end = m_buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return false;
        const QList<QByteArray> lines = m_buffer.left(end).split('\n');
        Answer a;
        a.status = lines.value(0).split(' ').value(1).toInt();
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines.at(i).indexOf(':');
            a.headers.insert(lines.at(i).left(colon).trimmed().toLower(), lines.at(i).mid(colon + 1).trimmed());
        }
        const qsizetype length = head ? 0 : a.header("Content-Length").toLongLong();
        if (m_buffer.size() < end + 4 + length)
            return false;
        a.body = m_buffer.mid(end + 4, length);
        m_buffer.remove(0, end + 4 + length);
        *answer = a;
        return true;
    }

    QTcpSocket m_socket;
    QByteArray m_buffer;
};

// An ordinary client's GET.
struct Fetched
{
    bool finished = false;
    int status = 0;
    QByteArray contentType;
    QByteArray body;
};

Fetched fetch(quint16 port, const QString &target)
{
    QNetworkAccessManager nam;
    nam.setProxy(QNetworkProxy::NoProxy);
    const QUrl url(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(target));
    std::unique_ptr<QNetworkReply> reply(nam.get(QNetworkRequest(url)));
    Fetched f;
    f.finished = QTest::qWaitFor([&] { return reply->isFinished(); }, Deadline);
    f.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    f.contentType = reply->rawHeader("Content-Type");
    f.body = reply->readAll();
    return f;
}

// Hands the descriptors it accepts over untouched, for HttpConnections made by a test.
class DescriptorServer : public QTcpServer
{
public:
    QList<qintptr> accepted;

protected:
    void incomingConnection(qintptr descriptor) override { accepted.append(descriptor); }
};

} // namespace

class tst_StatusHttp : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();

    void liveAnswersPlainText();
    void metricsHaveThePrometheusContentType();
    void anUnknownPathIs404WithAJsonError();
    void theInvokerPageIsAnEmptyListWithoutClients();
    void postIs405WithAllow();
    void headHasTheLengthButNoBody();

    void garbageIs400AndCloses_data();
    void garbageIs400AndCloses();
    void oversizedHeadersAre431AndClose();
    void anOversizedTargetIs414AndCloses();
    void aBodyIs413AndCloses_data();
    void aBodyIs413AndCloses();
    void otherHttpVersionsAre505_data();
    void otherHttpVersionsAre505();

    void pipelinedRequestsAreAnsweredInOrder();
    void manyPipelinedRequestsReachASlowReaderInOrder();
    void http10WithoutKeepAliveClosesAfterTheAnswer();
    void http10WithKeepAliveStaysOpen();
    void keepAliveServesManyRequestsOnOneConnection();

    void aSlowRequestIs408WhileOthersAreServed();
    void anIdleConnectionIsClosed();
    void peersVanishingMidRequestOrMidAnswerHarmNothing();
    void aConnectionDeletesItselfWhenItEnds();
    void bytesReceivedBeforeTheConnectionComeFirst();

    void onePortIsSharedAndReleased();
    void aBusyPortIsAnError();

private:
    std::shared_ptr<StatusPort> m_port;
};

void tst_StatusHttp::init()
{
    QString error;
    m_port = StatusPort::open(QStringLiteral("127.0.0.1"), 0, Deadline, 64, &error);
    QVERIFY2(m_port, qPrintable(error));
    QVERIFY(m_port->port() != 0);
}

void tst_StatusHttp::cleanup()
{
    m_port.reset();
}

// ---- the pages --------------------------------------------------------------------------------

void tst_StatusHttp::liveAnswersPlainText()
{
    const Fetched f = fetch(m_port->port(), QStringLiteral("/tomato/status/live"));
    QVERIFY(f.finished);
    QCOMPARE(f.status, 200);
    QCOMPARE(f.body, QByteArray("live\n"));
    QVERIFY(f.contentType.startsWith("text/plain"));
}

void tst_StatusHttp::metricsHaveThePrometheusContentType()
{
    const Fetched f = fetch(m_port->port(), QStringLiteral("/metrics"));
    QVERIFY(f.finished);
    QCOMPARE(f.status, 200);
    QCOMPARE(f.contentType, QByteArray(MetricsWriter::contentType()));
}

void tst_StatusHttp::anUnknownPathIs404WithAJsonError()
{
    const Fetched f = fetch(m_port->port(), QStringLiteral("/no/such/page"));
    QVERIFY(f.finished);
    QCOMPARE(f.status, 404);
    QCOMPARE(f.contentType, QByteArray("application/json"));
    const QJsonDocument json = QJsonDocument::fromJson(f.body);
    QVERIFY(json.isObject());
    QVERIFY(json.object().value(QLatin1String("error")).toString().contains(QLatin1String("/no/such/page")));
}

void tst_StatusHttp::theInvokerPageIsAnEmptyListWithoutClients()
{
    const Fetched f = fetch(m_port->port(), QStringLiteral("/tomato/status/invoker?service-id=x"));
    QVERIFY(f.finished);
    QCOMPARE(f.status, 200);
    QCOMPARE(f.contentType, QByteArray("application/json"));
    const QJsonDocument json = QJsonDocument::fromJson(f.body);
    QVERIFY(json.isArray());
    QCOMPARE(json.array().size(), 0);
}

void tst_StatusHttp::postIs405WithAllow()
{
    RawPeer peer(m_port->port());
    peer.send("POST /tomato/status/live HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n");
    Answer a;
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 405);
    QCOMPARE(a.header("Allow"), QByteArray("GET, HEAD"));
    QCOMPARE(a.header("Cache-Control"), QByteArray("no-store"));
    QVERIFY(QJsonDocument::fromJson(a.body).object().contains(QLatin1String("error")));
    // A page's 405 is an ordinary answer: the connection goes on.
    peer.send(LiveRequest);
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 200);
}

void tst_StatusHttp::headHasTheLengthButNoBody()
{
    RawPeer peer(m_port->port());
    peer.send("HEAD /tomato/status/live HTTP/1.1\r\nHost: test\r\n\r\n");
    Answer a;
    QVERIFY(peer.read(&a, true));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.header("Content-Length"), QByteArray("5"));
    // No body bytes follow: the next answer starts right after the headers.
    peer.send(LiveRequest);
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, QByteArray("live\n"));
    QVERIFY(peer.unread().isEmpty());
}

// ---- limits and errors --------------------------------------------------------------------------

void tst_StatusHttp::garbageIs400AndCloses_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("words") << QByteArray("hello there\r\n\r\n");
    QTest::newRow("binary") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
    QTest::newRow("bad method") << QByteArray("GRAB / HTTP/1.1\r\n\r\n");
    QTest::newRow("bad header") << QByteArray("GET / HTTP/1.1\r\nNo colon here\r\n\r\n");
}

void tst_StatusHttp::garbageIs400AndCloses()
{
    QFETCH(QByteArray, bytes);
    RawPeer peer(m_port->port());
    peer.send(bytes);
    Answer a;
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 400);
    QCOMPARE(a.header("Connection"), QByteArray("close"));
    QVERIFY(peer.waitForClose());
}

void tst_StatusHttp::oversizedHeadersAre431AndClose()
{
    RawPeer peer(m_port->port());
    peer.send("GET /tomato/status/live HTTP/1.1\r\nHost: test\r\nX-Filler: " + QByteArray(9 * 1024, 'a')
              + "\r\n\r\n");
    Answer a;
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 431);
    QVERIFY(peer.waitForClose());

    // Many small headers count together.
    RawPeer many(m_port->port());
    QByteArray request = "GET /tomato/status/live HTTP/1.1\r\n";
    for (int i = 0; i < 400; ++i)
        request += "X-Header-" + QByteArray::number(i) + ": value\r\n";
    many.send(request + "\r\n");
    QVERIFY(many.read(&a));
    QCOMPARE(a.status, 431);
    QVERIFY(many.waitForClose());
}

void tst_StatusHttp::anOversizedTargetIs414AndCloses()
{
    RawPeer peer(m_port->port());
    peer.send("GET /tomato/status/live?" + QByteArray(9 * 1024, 'q') + " HTTP/1.1\r\nHost: test\r\n\r\n");
    Answer a;
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 414);
    QVERIFY(peer.waitForClose());
}

void tst_StatusHttp::aBodyIs413AndCloses_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    // A POST is refused for its method first (405), its body unread; a GET for its body.
    QTest::newRow("content-length") << QByteArray("POST /tomato/status/live HTTP/1.1\r\nHost: test\r\n"
                                                  "Content-Length: 5\r\n\r\nhello") << 405;
    QTest::newRow("chunked") << QByteArray("POST /tomato/status/live HTTP/1.1\r\nHost: test\r\n"
                                           "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n") << 405;
    QTest::newRow("a GET with a body") << QByteArray("GET /tomato/status/live HTTP/1.1\r\nHost: test\r\n"
                                                     "Content-Length: 2\r\n\r\n{}") << 413;
    QTest::newRow("a GET with a chunked body") << QByteArray("GET /tomato/status/live HTTP/1.1\r\nHost: test\r\n"
                                                             "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n") << 413;
}

void tst_StatusHttp::aBodyIs413AndCloses()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    RawPeer peer(m_port->port());
    peer.send(request);
    Answer a;
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, status);
    if (status == 405)
        QCOMPARE(a.header("Allow"), QByteArray("GET, HEAD"));
    QVERIFY(peer.waitForClose());
}

void tst_StatusHttp::otherHttpVersionsAre505_data()
{
    QTest::addColumn<QByteArray>("version");
    QTest::newRow("2.0") << QByteArray("HTTP/2.0");
    QTest::newRow("1.2") << QByteArray("HTTP/1.2");
    QTest::newRow("0.9") << QByteArray("HTTP/0.9");
}

void tst_StatusHttp::otherHttpVersionsAre505()
{
    QFETCH(QByteArray, version);
    RawPeer peer(m_port->port());
    peer.send("GET /tomato/status/live " + version + "\r\nHost: test\r\n\r\n");
    Answer a;
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 505);
    QVERIFY(peer.waitForClose());
}

// ---- keep-alive and pipelining ------------------------------------------------------------------

void tst_StatusHttp::pipelinedRequestsAreAnsweredInOrder()
{
    RawPeer peer(m_port->port());
    peer.send(LiveRequest + "GET /nowhere HTTP/1.1\r\nHost: test\r\n\r\n"
              + "HEAD /tomato/status/live HTTP/1.1\r\nHost: test\r\n\r\n"
              + "GET /tomato/status/invoker?service-id=x HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    Answer a;
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, QByteArray("live\n"));
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 404);
    QVERIFY(peer.read(&a, true));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.header("Content-Length"), QByteArray("5"));
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.header("Connection"), QByteArray("close"));
    QCOMPARE(a.body.trimmed(), QByteArray("[]"));
    QVERIFY(peer.waitForClose());
    QVERIFY(peer.unread().isEmpty());
}

// More answers than the socket buffers hold, to a peer that reads in small bites: the
// connection waits for the stream to take each answer, and answers the rest in order. The
// connection is made here, on this thread, over a descriptor with a small send buffer: it
// parses and answers everything it has read before the peer reads a byte, so it must block.
void tst_StatusHttp::manyPipelinedRequestsReachASlowReaderInOrder()
{
    DescriptorServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    RawPeer peer(server.serverPort());
    peer.socket().setReadBufferSize(4096);
    QTRY_COMPARE_WITH_TIMEOUT(server.accepted.size(), 1, Deadline);
    const qintptr descriptor = server.accepted.takeFirst();
    const int sendBuffer = 4096;
    QCOMPARE(::setsockopt(int(descriptor), SOL_SOCKET, SO_SNDBUF, &sendBuffer, sizeof(sendBuffer)), 0);
    QObject owner;
    const QPointer<HttpConnection> connection =
        new HttpConnection(TcpTransport().accept(descriptor, nullptr), {},
                           std::make_shared<StatusPages>(std::make_shared<NodeIntrospection>()), Deadline, &owner);

    const int count = 5000;
    QByteArray requests;
    for (int i = 0; i < count; ++i)
        requests += i % 2 ? "GET /tomato/status HTTP/1.1\r\nHost: test\r\n\r\n" : LiveRequest;
    peer.send(requests);
    for (int i = 0; i < count; ++i) {
        Answer a;
        QVERIFY2(peer.read(&a), qPrintable(QString::number(i)));
        QCOMPARE(a.status, 200);
        QCOMPARE(a.header("Content-Type").startsWith("application/json"), i % 2 == 1);
    }
    QVERIFY(peer.isConnected());
    peer.socket().disconnectFromHost();
    QTRY_VERIFY_WITH_TIMEOUT(connection.isNull(), Deadline);
}

void tst_StatusHttp::http10WithoutKeepAliveClosesAfterTheAnswer()
{
    RawPeer peer(m_port->port());
    peer.send("GET /tomato/status/live HTTP/1.0\r\n\r\n");
    Answer a;
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, QByteArray("live\n"));
    QCOMPARE(a.header("Connection"), QByteArray("close"));
    QVERIFY(peer.waitForClose());
}

void tst_StatusHttp::http10WithKeepAliveStaysOpen()
{
    RawPeer peer(m_port->port());
    for (int i = 0; i < 2; ++i) {
        peer.send("GET /tomato/status/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        Answer a;
        QVERIFY(peer.read(&a));
        QCOMPARE(a.status, 200);
        QCOMPARE(a.header("Connection"), QByteArray("keep-alive"));
    }
    QVERIFY(peer.isConnected());
}

void tst_StatusHttp::keepAliveServesManyRequestsOnOneConnection()
{
    RawPeer peer(m_port->port());
    const quint16 localPort = peer.socket().localPort();
    const char *const targets[] = {"/tomato/status/live", "/tomato/status/node", "/metrics"};
    for (const char *target : targets) {
        peer.send("GET " + QByteArray(target) + " HTTP/1.1\r\nHost: test\r\n\r\n");
        Answer a;
        QVERIFY2(peer.read(&a), target);
        QCOMPARE(a.status, 200);
        QCOMPARE(a.header("Connection"), QByteArray("keep-alive"));
        QVERIFY(peer.isConnected());
    }
    QCOMPARE(peer.socket().localPort(), localPort);
}

// ---- slow and vanishing peers ---------------------------------------------------------------

void tst_StatusHttp::aSlowRequestIs408WhileOthersAreServed()
{
    QString error;
    const auto port = StatusPort::open(QStringLiteral("127.0.0.1"), 0, 300, 64, &error);
    QVERIFY2(port, qPrintable(error));
    RawPeer slow(port->port());
    QElapsedTimer elapsed;
    elapsed.start();
    slow.send("GET /tomato/status/live HTTP/1.1\r\nHost: te"); // and nothing more
    for (int i = 0; i < 3; ++i) { // the I/O thread is not held up by the slow one
        RawPeer other(port->port());
        other.send(LiveRequest);
        Answer a;
        QVERIFY(other.read(&a));
        QCOMPARE(a.status, 200);
    }
    Answer a;
    QVERIFY(slow.read(&a));
    QCOMPARE(a.status, 408);
    QVERIFY(slow.waitForClose());
    QVERIFY2(elapsed.elapsed() >= 150, qPrintable(QString::number(elapsed.elapsed())));
}

void tst_StatusHttp::anIdleConnectionIsClosed()
{
    QString error;
    const auto port = StatusPort::open(QStringLiteral("127.0.0.1"), 0, 300, 64, &error);
    QVERIFY2(port, qPrintable(error));
    RawPeer silent(port->port()); // never sends
    RawPeer done(port->port());   // keep-alive after one answer
    done.send(LiveRequest);
    Answer a;
    QVERIFY(done.read(&a));
    QCOMPARE(a.status, 200);
    QVERIFY(silent.waitForClose());
    QVERIFY(silent.unread().isEmpty()); // closed without an answer: there was no request
    QVERIFY(done.waitForClose());
    QVERIFY(done.unread().isEmpty());
}

void tst_StatusHttp::peersVanishingMidRequestOrMidAnswerHarmNothing()
{
    {
        RawPeer midRequest(m_port->port());
        midRequest.send("GET /tomato/status/li");
        midRequest.socket().abort();
    }
    {
        RawPeer beforeTheAnswer(m_port->port());
        beforeTheAnswer.send(LiveRequest);
        beforeTheAnswer.socket().abort();
    }
    {
        RawPeer halfClosed(m_port->port()); // finished sending mid-request
        halfClosed.send("GET /tomato/status/live HTTP/1.1\r\nHo");
        halfClosed.socket().disconnectFromHost();
    }
    {
        // Far more answers than the socket buffers hold, and a peer that reads a little, then
        // leaves while the server is still writing.
        RawPeer midAnswer(m_port->port());
        midAnswer.socket().setReadBufferSize(16 * 1024);
        QByteArray requests;
        for (int i = 0; i < 20000; ++i)
            requests += "GET /tomato/status HTTP/1.1\r\nHost: test\r\n\r\n";
        midAnswer.send(requests);
        QTRY_VERIFY_WITH_TIMEOUT(midAnswer.socket().bytesAvailable() > 0, Deadline);
        midAnswer.socket().abort();
    }
    RawPeer after(m_port->port());
    after.send(LiveRequest);
    Answer a;
    QVERIFY(after.read(&a));
    QCOMPARE(a.status, 200);
}

// An HttpConnection made directly (on this thread), to see it go.
void tst_StatusHttp::aConnectionDeletesItselfWhenItEnds()
{
    DescriptorServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    const auto pages = std::make_shared<StatusPages>(std::make_shared<NodeIntrospection>());
    const TcpTransport tcp;
    QObject owner;
    for (const QByteArray &ending : {QByteArray("abort"), QByteArray("half"), QByteArray("close")}) {
        RawPeer peer(server.serverPort());
        QTRY_COMPARE_WITH_TIMEOUT(server.accepted.size(), 1, Deadline);
        const QPointer<HttpConnection> c =
            new HttpConnection(tcp.accept(server.accepted.takeFirst(), nullptr), {}, pages, Deadline, &owner);
        if (ending == "close") {
            peer.send("GET /tomato/status/live HTTP/1.1\r\nConnection: close\r\n\r\n");
            Answer a;
            QVERIFY(peer.read(&a));
            QCOMPARE(a.status, 200);
        } else {
            peer.send("GET /tomato/status/live HTTP/1.1\r\nHo");
            if (ending == "abort")
                peer.socket().abort();
            else
                peer.socket().disconnectFromHost();
        }
        QTRY_VERIFY2_WITH_TIMEOUT(c.isNull(), ending.constData(), Deadline);
    }
    QVERIFY(owner.children().isEmpty());
}

void tst_StatusHttp::bytesReceivedBeforeTheConnectionComeFirst()
{
    DescriptorServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    RawPeer peer(server.serverPort());
    QTRY_COMPARE_WITH_TIMEOUT(server.accepted.size(), 1, Deadline);
    QObject owner;
    const TcpTransport tcp;
    new HttpConnection(tcp.accept(server.accepted.takeFirst(), nullptr), "GET /tomato/status/li",
                       std::make_shared<StatusPages>(std::make_shared<NodeIntrospection>()), Deadline, &owner);
    peer.send("ve HTTP/1.1\r\nHost: test\r\n\r\n");
    Answer a;
    QVERIFY(peer.read(&a));
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, QByteArray("live\n"));
}

// ---- the port -------------------------------------------------------------------------------

void tst_StatusHttp::onePortIsSharedAndReleased()
{
    QString error;
    auto first = StatusPort::open(QStringLiteral("127.0.0.1"), 0, Deadline, 64, &error);
    QVERIFY2(first, qPrintable(error));
    const quint16 port = first->port();
    auto second = StatusPort::open(QStringLiteral("127.0.0.1"), port, Deadline, 64, &error);
    QVERIFY2(second, qPrintable(error));
    QCOMPARE(second.get(), first.get());
    QCOMPARE(second->port(), port);
    // Port 0 is never shared: each asks for a port of its own.
    const auto other = StatusPort::open(QStringLiteral("127.0.0.1"), 0, Deadline, 64, &error);
    QVERIFY2(other, qPrintable(error));
    QVERIFY(other->port() != port);

    first.reset();
    {
        RawPeer peer(port); // still open: the second holder has it
        peer.send(LiveRequest);
        Answer a;
        QVERIFY(peer.read(&a));
        QCOMPARE(a.status, 200);
    }
    second.reset();
    QTcpServer successor;
    QVERIFY2(successor.listen(QHostAddress::LocalHost, port), qPrintable(successor.errorString()));
    successor.close();
    // And it can be opened again.
    const auto reopened = StatusPort::open(QStringLiteral("127.0.0.1"), port, Deadline, 64, &error);
    QVERIFY2(reopened, qPrintable(error));
    QCOMPARE(reopened->port(), port);
}

void tst_StatusHttp::aBusyPortIsAnError()
{
    QTcpServer occupant;
    QVERIFY(occupant.listen(QHostAddress::LocalHost));
    QString error;
    const auto port = StatusPort::open(QStringLiteral("127.0.0.1"), occupant.serverPort(), Deadline, 64, &error);
    QVERIFY(!port);
    QVERIFY2(error.contains(QString::number(occupant.serverPort())), qPrintable(error));
    QVERIFY(!StatusPort::open(QStringLiteral("not-an-address"), 0, Deadline, 64, &error));
    QVERIFY(!error.isEmpty());
}

QTEST_MAIN(tst_StatusHttp)
#include "tst_statushttp.moc"

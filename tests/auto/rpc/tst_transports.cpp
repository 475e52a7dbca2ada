// SPDX-License-Identifier: Apache-2.0
// What each transport adds of its own: the table that finds transports by scheme, a server on
// several transports at once, TLS (certificates that cannot be trusted, mutual TLS and
// allow-lists, plain text on a TLS port, stalled handshakes, bad files) and Unix sockets
// (permissions, stale socket files). Real servers, real sockets, certificates made by openssl.
#include "rawclient.h"
#include "rpcerrorof.h"
#include "testcertificates.h"
#include "testservice_stub.h"
#include "testserviceimpl.h"

#include <tomato/client/rpcclient.h>
#include <tomato/registry/staticregistry_p.h>
#include <tomato/server/rpcserver.h>
#include <tomato/transport/outbox_p.h>
#include <tomato/transport/tlstransport_p.h>
#include <tomato/transport/transport_p.h>
#include <tomato/wire/frame_p.h>

#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QTest>

#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace Tomato;
using Test::TestService;

namespace {

// A server publishing TestServiceImpl with the given configuration.
struct Server
{
    explicit Server(const RpcConfig &config, const PublishOptions &options = {})
        : server(config), impl(&gates)
    {
        server.publish<TestService>(&impl, options);
        started = server.start();
    }
    ~Server() { gates.open(QStringLiteral("*teardown*")); }
    Endpoint address(int i = 0) const { return server.addresses().value(i); }

    Test::Gates gates;
    RpcServer server;
    Test::TestServiceImpl impl;
    bool started = false;
};

// Connects an AF_UNIX socket to `path`: 0, or the errno of the failure.
int unixConnect(const QByteArray &path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    qstrncpy(addr.sun_path, path.constData(), sizeof(addr.sun_path));
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) == 0 ? 0 : errno;
    ::close(fd);
    return rc;
}

// A plain OpenSSL client on a descriptor it owns (Qt's cannot half-close, nor be given a
// small receive buffer): the tests send and read its bytes themselves.
struct RawTlsPeer
{
    explicit RawTlsPeer(int descriptor) : fd(descriptor) { SSL_set_fd(ssl.get(), fd); }
    ~RawTlsPeer() { close(); }
    RawTlsPeer(const RawTlsPeer &) = delete;
    RawTlsPeer &operator=(const RawTlsPeer &) = delete;
    void close()
    {
        if (fd >= 0)
            ::close(std::exchange(fd, -1));
    }
    // A TCP connection to the loopback's `port`, with that receive buffer (0: the system's);
    // -1 when it fails.
    static int connectTcp(quint16 port, int receiveBuffer = 0)
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if ((receiveBuffer > 0 && ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof(receiveBuffer)) != 0)
            || ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0) {
            ::close(fd);
            return -1;
        }
        return fd;
    }

    int fd;
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_client_method()), SSL_CTX_free};
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl{SSL_new(ctx.get()), SSL_free};
};

} // namespace

class tst_Transports : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void transportsAreFoundByScheme();
    void anUnknownSchemeIsAClearErrorOnBothSides();
    void listenAndHostOrPortTogetherAreRefused();
    void oneServerServesTcpTlsAndUnixAtOnce();

    void tlsRefusesAServerItCannotTrust_data();
    void tlsRefusesAServerItCannotTrust();
    void mutualTlsAppliesThePerServiceAllowList();
    void anAllowListRefusesCallersWithoutACertificate();
    void aClientWithoutAnAcceptableCertificateIsRefused_data();
    void aClientWithoutAnAcceptableCertificateIsRefused();
    void plainTextOnATlsPortIsToldToUseTls();
    void tlsToAPlainPortFailsClearly();
    void aTlsPeerThatVanishesMidAnswerHarmsNobody();
    void aTlsPeerThatFinishesSendingStillGetsItsAnswers();
    void aSlowTlsReaderWhoFinishedSendingGetsTheWholeAnswer();
    void whatATlsWriterCouldNotSendYetIsPendingUntilFlushed();
    void aStalledHandshakeIsClosedAfterItsTimeout();
    void badTlsFilesFailStartNamingTheKey_data();
    void badTlsFilesFailStartNamingTheKey();

    void unixSocketsCarryTheirAccessInTheirMode_data();
    void unixSocketsCarryTheirAccessInTheirMode();
    void anotherUserCannotConnectToAUserOnlySocket();
    void aStaleSocketFileIsReplaced();
    void aLiveSocketOrAnotherFileIsNotTakenOver();
    void theSocketFileGoesWithTheServer();

private:
    RpcConfig tlsServer(const QString &certificate = QStringLiteral("server")) const;
    RpcConfig tlsClient(const QString &certificate = {}) const;
    QString socketPath(const QString &name) const { return m_dir.filePath(name); }

    TestCertificates m_certs;
    QTemporaryDir m_dir;
};

void tst_Transports::initTestCase()
{
    QVERIFY2(m_certs.make(), qPrintable(m_certs.error()));
    QVERIFY(m_dir.isValid());
    // World-traversable, so that only a socket's own mode decides who may connect.
    QVERIFY(::chmod(m_dir.path().toLocal8Bit().constData(), 0755) == 0);
}

RpcConfig tst_Transports::tlsServer(const QString &certificate) const
{
    RpcConfig c;
    c.setListen({QStringLiteral("tls://127.0.0.1:0")});
    c.setTlsCert(m_certs.cert(certificate));
    c.setTlsKey(m_certs.key(certificate));
    c.setTlsCa(m_certs.ca());
    return c;
}

RpcConfig tst_Transports::tlsClient(const QString &certificate) const
{
    RpcConfig c;
    c.setTlsCa(m_certs.ca());
    if (!certificate.isEmpty()) {
        c.setTlsCert(m_certs.cert(certificate));
        c.setTlsKey(m_certs.key(certificate));
    }
    c.setTimeoutMs(5000);
    return c;
}

// ---- the seam ------------------------------------------------------------------------------

void tst_Transports::transportsAreFoundByScheme()
{
    const auto table = Transports::standard(RpcConfig());
    QCOMPARE(table->schemes(), (QStringList{QStringLiteral("tcp"), QStringLiteral("tls"), QStringLiteral("unix")}));
    for (const QString &scheme : table->schemes())
        QCOMPARE(table->find(scheme)->scheme(), scheme);
    QVERIFY(!table->find(u"quic"));
    QString error;
    QVERIFY(!table->forEndpoint(Endpoint(QStringLiteral("quic"), QStringLiteral("h"), 1), &error));
    QCOMPARE(error, QStringLiteral("no transport for 'quic://h:1' (known: tcp, tls, unix)"));
    // A table is a value of its owner's: another one can hold other backends.
    Transports own;
    own.add(std::shared_ptr<const Transport>(table, table->find(u"unix")));
    QCOMPARE(own.schemes(), QStringList{QStringLiteral("unix")});
}

void tst_Transports::anUnknownSchemeIsAClearErrorOnBothSides()
{
    RpcConfig config;
    config.setListen({QStringLiteral("quic://127.0.0.1:0")});
    RpcServer server(config);
    QVERIFY(!server.start());
    QVERIFY2(server.errorString().contains(QLatin1String("known: tcp, tls, unix")), qPrintable(server.errorString()));

    RpcClient client;
    auto stub = client.createDirectStub<TestService>(QStringLiteral("quic://127.0.0.1:1"));
    const RpcError e = errorOf([&] { stub->echo(QStringLiteral("x")); });
    QCOMPARE(e.code(), RpcError::ConnectFailed);
    QVERIFY2(e.message().contains(QLatin1String("no transport for 'quic://127.0.0.1:1'")), qPrintable(e.message()));
    QCOMPARE(errorOf([&] { client.createDirectStub<TestService>(QStringLiteral("unix://relative.sock")); }).code(),
             RpcError::BadArguments);
}

void tst_Transports::listenAndHostOrPortTogetherAreRefused()
{
    RpcConfig config;
    config.setListen({QStringLiteral("tcp://127.0.0.1:0")});
    config.setPort(4567);
    RpcServer server(config);
    QVERIFY(!server.start());
    QVERIFY2(server.errorString().contains(QLatin1String("both listen and port")), qPrintable(server.errorString()));
}

void tst_Transports::oneServerServesTcpTlsAndUnixAtOnce()
{
    RpcConfig config = tlsServer();
    const QString unixPath = socketPath(QStringLiteral("all.sock"));
    config.setListen({QStringLiteral("unix://") + unixPath, QStringLiteral("tcp://127.0.0.1:0"),
                      QStringLiteral("tls://127.0.0.1:0")});
    config.setMicroServiceId(QStringLiteral("test-service"));
    StaticRegistry registry(QStringLiteral("static://127.0.0.1:1"));
    Server s(config);
    s.server.setRegistry(&registry);
    s.server.stop();
    QVERIFY2(s.server.start(), qPrintable(s.server.errorString()));
    const QList<Endpoint> bound = s.server.addresses();
    QCOMPARE(bound.size(), 3);
    QCOMPARE(bound.at(0), Endpoint::unixSocket(unixPath));
    QCOMPARE(bound.at(1).scheme(), QStringLiteral("tcp"));
    QCOMPARE(bound.at(2).scheme(), QStringLiteral("tls"));
    QVERIFY(bound.at(1).port() != 0 && bound.at(2).port() != 0 && bound.at(1).port() != bound.at(2).port());
    // The first network address is the one announced; Unix sockets never are.
    QCOMPARE(s.server.instance().endpoint(), Endpoint(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"), bound.at(1).port()));
    QCOMPARE(s.server.port(), bound.at(1).port());

    RpcClient client(tlsClient());
    for (const Endpoint &address : bound) {
        auto stub = client.createDirectStub<TestService>(address);
        QCOMPARE(stub->echo(address.scheme()), address.scheme());
    }
    QCOMPARE(s.server.stats().connectionsAccepted(), quint64(3));
    // A host name is looked up; every address it has is tried (localhost may be ::1 first,
    // where nobody listens).
    auto named = client.createDirectStub<TestService>(QStringLiteral("tcp://localhost:%1").arg(bound.at(1).port()));
    QCOMPARE(named->add(1, 2), 3);
}

// ---- TLS -------------------------------------------------------------------------------------

void tst_Transports::tlsRefusesAServerItCannotTrust_data()
{
    QTest::addColumn<QString>("certificate");
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("reason");
    QTest::newRow("expired") << "server-expired" << "tls://127.0.0.1:%1" << "expired";
    QTest::newRow("from another CA") << "server-otherca" << "tls://127.0.0.1:%1" << "issuer";
    QTest::newRow("for another host") << "server-wronghost" << "tls://localhost:%1" << "host name";
}

void tst_Transports::tlsRefusesAServerItCannotTrust()
{
    QFETCH(QString, certificate);
    QFETCH(QString, address);
    QFETCH(QString, reason);
    Server bad(tlsServer(certificate));
    QVERIFY2(bad.started, qPrintable(bad.server.errorString()));
    Server good(tlsServer());
    RpcClient client(tlsClient());
    auto refused = client.createDirectStub<TestService>(address.arg(bad.address().port()));
    const RpcError e = errorOf([&] { refused->echo(QStringLiteral("x")); });
    QCOMPARE(e.code(), RpcError::ConnectFailed);
    QVERIFY2(e.message().contains(QLatin1String("TLS handshake")) && e.message().contains(reason, Qt::CaseInsensitive),
             qPrintable(e.message()));
    QCOMPARE(bad.impl.touches(), 0);
    // The same client still reaches a server it trusts; the refused server lives on too.
    auto trusted = client.createDirectStub<TestService>(good.address());
    QCOMPARE(trusted->add(2, 3), 5);
    QTRY_COMPARE(bad.server.stats().handshakeFailures(), quint64(1));
    QTRY_COMPARE(bad.server.stats().connections(), 0);
}

void tst_Transports::mutualTlsAppliesThePerServiceAllowList()
{
    RpcConfig config = tlsServer();
    config.setTlsRequireClientCert(true);
    config.set(QStringLiteral("tls-allowed-clients"), QStringLiteral("Test::TestService=client-a;*=nobody"));
    Server s(config);
    QVERIFY2(s.started, qPrintable(s.server.errorString()));

    RpcClient a(tlsClient(QStringLiteral("client-a")));
    auto stubA = a.createDirectStub<TestService>(s.address());
    QCOMPARE(stubA->add(1, 1), 2);
    // The method knows who called.
    const QVariantMap info = stubA->callInfo();
    QCOMPARE(info.value(QStringLiteral("subject")).toString(), QStringLiteral("CN=client-a"));
    QCOMPARE(info.value(QStringLiteral("commonName")).toString(), QStringLiteral("client-a"));

    RpcClient b(tlsClient(QStringLiteral("client-b")));
    auto stubB = b.createDirectStub<TestService>(s.address());
    const RpcError e = errorOf([&] { stubB->add(1, 1); });
    QCOMPARE(e.code(), RpcError::PermissionDenied);
    QVERIFY2(e.message().contains(QLatin1String("client 'client-b'")) && e.message().contains(QLatin1String("Test::TestService")),
             qPrintable(e.message()));
    QVERIFY(!RpcError::isRetryable(e.code()));
    // Refused, not disconnected: the connection serves what the caller may call.
    QCOMPARE(errorOf([&] { stubB->echo(QStringLiteral("x")); }).code(), RpcError::PermissionDenied);
    QCOMPARE(s.server.stats().connections(), 2);

    // PublishOptions override the configuration for their interface; "*" is any verified client.
    Server open(config, PublishOptions().setAllowedClients({QStringLiteral("*")}));
    QCOMPARE(b.createDirectStub<TestService>(open.address())->add(2, 2), 4);
}

void tst_Transports::anAllowListRefusesCallersWithoutACertificate()
{
    // One server, TLS without client certificates and plain TCP: nobody is known, nobody may.
    RpcConfig config = tlsServer();
    config.setListen({QStringLiteral("tls://127.0.0.1:0"), QStringLiteral("tcp://127.0.0.1:0")});
    config.set(QStringLiteral("tls-allowed-clients"), QStringLiteral("*=*"));
    Server s(config);
    QVERIFY2(s.started, qPrintable(s.server.errorString()));
    RpcClient client(tlsClient(QStringLiteral("client-a")));
    for (int i = 0; i < 2; ++i) {
        auto stub = client.createDirectStub<TestService>(s.address(i));
        const RpcError e = errorOf([&] { stub->echo(QStringLiteral("x")); });
        QCOMPARE(e.code(), RpcError::PermissionDenied);
        QVERIFY2(e.message().contains(QLatin1String("without a verified client certificate")), qPrintable(e.message()));
    }
}

void tst_Transports::aClientWithoutAnAcceptableCertificateIsRefused_data()
{
    QTest::addColumn<QString>("certificate");
    QTest::newRow("none") << QString();
    QTest::newRow("expired") << QStringLiteral("client-expired");
    QTest::newRow("from another CA") << QStringLiteral("client-otherca");
}

void tst_Transports::aClientWithoutAnAcceptableCertificateIsRefused()
{
    QFETCH(QString, certificate);
    RpcConfig config = tlsServer();
    config.setTlsRequireClientCert(true);
    Server s(config);
    RpcClient client(tlsClient(certificate));
    auto stub = client.createDirectStub<TestService>(s.address());
    const RpcError e = errorOf([&] { stub->touch(); });
    // In TLS 1.3 the client finishes its side of the handshake before the server refuses its
    // certificate: it sees the connection lost before any answer, and is told what that means.
    QVERIFY2(e.code() == RpcError::ConnectFailed || e.code() == RpcError::ConnectionLost, qPrintable(e.toString()));
    QVERIFY2(e.message().contains(QLatin1String("client certificate")), qPrintable(e.message()));
    QCOMPARE(s.impl.touches(), 0);
    QTRY_COMPARE(s.server.stats().handshakeFailures(), quint64(1));
    QCOMPARE(s.server.stats().callsReceived(), quint64(0));
}

void tst_Transports::plainTextOnATlsPortIsToldToUseTls()
{
    Server s(tlsServer());
    RpcClient plain;
    auto stub = plain.createDirectStub<TestService>(Endpoint(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"),
                                                             s.address().port()));
    const RpcError e = errorOf([&] { stub->echo(QStringLiteral("x")); });
    QCOMPARE(e.code(), RpcError::BadRequest);
    QVERIFY2(e.message().contains(QLatin1String("this port speaks TLS")), qPrintable(e.message()));
    QTRY_COMPARE(s.server.stats().handshakeFailures(), quint64(1));
    // Bytes that are neither TLS nor Tomato: closed, nobody else disturbed.
    QTcpSocket http;
    http.connectToHost(QStringLiteral("127.0.0.1"), s.address().port());
    QVERIFY(http.waitForConnected(5000));
    http.write("GET / HTTP/1.1\r\n\r\n");
    QVERIFY(http.waitForDisconnected(5000));
    RpcClient secure(tlsClient());
    QCOMPARE(secure.createDirectStub<TestService>(s.address())->add(1, 2), 3);
    QTRY_COMPARE(s.server.stats().handshakeFailures(), quint64(2));
}

void tst_Transports::tlsToAPlainPortFailsClearly()
{
    RpcConfig config;
    config.setListen({QStringLiteral("tcp://127.0.0.1:0")});
    Server s(config);
    RpcClient client(tlsClient());
    auto stub = client.createDirectStub<TestService>(Endpoint(QStringLiteral("tls"), QStringLiteral("127.0.0.1"),
                                                              s.address().port()));
    const RpcError e = errorOf([&] { stub->echo(QStringLiteral("x")); });
    QCOMPARE(e.code(), RpcError::ConnectFailed);
    QVERIFY2(e.message().contains(QLatin1String("TLS handshake")), qPrintable(e.message()));
    QTRY_COMPARE(s.server.stats().protocolErrors(), quint64(1));
    QCOMPARE(s.server.stats().callsReceived(), quint64(0));
}

void tst_Transports::aTlsPeerThatVanishesMidAnswerHarmsNobody()
{
    // Large answers are being encrypted and written (from business threads) when the client
    // goes: the writes fail with EPIPE / ECONNRESET, which must not raise SIGPIPE (OpenSSL's
    // own socket BIO would: the process, this test included, would die).
    Server s(tlsServer());
    {
        RpcClient gone(tlsClient());
        auto stub = gone.createDirectStub<TestService>(s.address());
        QCOMPARE(stub->add(1, 1), 2);
        for (int i = 0; i < 4; ++i)
            stub->blobAsync(4 << 20);
        QTRY_VERIFY(s.server.stats().callsReceived() >= 5);
    }
    RpcClient client(tlsClient());
    QCOMPARE(client.createDirectStub<TestService>(s.address())->add(2, 3), 5);
    QTRY_COMPARE(s.server.stats().connections(), 1);
}

void tst_Transports::aTlsPeerThatFinishesSendingStillGetsItsAnswers()
{
    // TLS 1.3 half-close: the client sends its requests, then close_notify and a FIN, and
    // still reads the answers (a plain OpenSSL client: Qt's cannot half-close).
    Server s(tlsServer());
    RawTlsPeer peer(RawTlsPeer::connectTcp(s.address().port()));
    QVERIFY(peer.fd >= 0);
    SSL *ssl = peer.ssl.get();
    QCOMPARE(SSL_connect(ssl), 1);
    QByteArray requests;
    const QList<std::pair<QByteArray, QByteArray>> calls = {{"waitAtGate", "[\"late\"]"}, {"add", "[2,3]"}};
    for (qsizetype i = 0; i < calls.size(); ++i) {
        Extension ext;
        ext.insert(QByteArray("service"), QByteArray("Test::TestService"));
        ext.insert(QByteArray("method"), calls.at(i).first);
        Frame::encode(requests, Frame::Request, 1, quint64(i + 1), ext.encode(), calls.at(i).second);
    }
    QCOMPARE(SSL_write(ssl, requests.constData(), int(requests.size())), int(requests.size()));
    QVERIFY(SSL_shutdown(ssl) >= 0); // close_notify
    ::shutdown(peer.fd, SHUT_WR);
    // The first answer is held until the server has read the whole flight, its end included.
    QTRY_COMPARE(s.impl.gateCalls(), 1);
    s.gates.open(QStringLiteral("late"));
    FrameParser parser;
    QMap<quint64, QByteArray> answers;
    char buffer[4096];
    while (answers.size() < 2) {
        const int n = SSL_read(ssl, buffer, sizeof(buffer));
        QVERIFY2(n > 0, "the server ended the session before answering");
        parser.append(QByteArray(buffer, n));
        while (parser.next() == FrameParser::Frame) {
            const Frame answer = parser.takeFrame();
            QCOMPARE(answer.command, quint16(Frame::Response));
            answers.insert(answer.messageId, answer.body);
        }
    }
    QCOMPARE(answers.value(1), QByteArray("1"));
    QCOMPARE(answers.value(2), QByteArray("5"));
    peer.close();
    QTRY_COMPARE(s.server.stats().connections(), 0);
}

void tst_Transports::aSlowTlsReaderWhoFinishedSendingGetsTheWholeAnswer()
{
    // A peer with a small receive buffer asks for 3 MB, says it is done sending and reads only
    // once the answer is stuck in the server: it still gets every byte, in order, then the end.
    Server s(tlsServer());
    RawTlsPeer peer(RawTlsPeer::connectTcp(s.address().port(), 16 * 1024));
    QVERIFY(peer.fd >= 0);
    SSL *ssl = peer.ssl.get();
    QCOMPARE(SSL_connect(ssl), 1);
    const int size = 3'000'000;
    QByteArray request;
    Extension ext;
    ext.insert(QByteArray("service"), QByteArray("Test::TestService"));
    ext.insert(QByteArray("method"), QByteArray("blob"));
    Frame::encode(request, Frame::Request, 1, 7, ext.encode(), QByteArray::number(size).prepend('[').append(']'));
    QCOMPARE(SSL_write(ssl, request.constData(), int(request.size())), int(request.size()));
    QVERIFY(SSL_shutdown(ssl) >= 0); // close_notify: the server closes once it has answered
    ::shutdown(peer.fd, SHUT_WR);
    // Answered and stuck: the kernel's buffers are full, the rest waits in the server.
    QTRY_COMPARE(s.server.stats().callsSucceeded(), quint64(1));
    FrameParser parser;
    std::optional<Frame> answer;
    char buffer[4096];
    int n = 0;
    while ((n = SSL_read(ssl, buffer, sizeof(buffer))) > 0) {
        parser.append(QByteArray(buffer, n));
        if (parser.next() == FrameParser::Frame) {
            QVERIFY(!answer);
            answer = parser.takeFrame();
        }
    }
    // The session ended after the whole answer (with no close_notify: the server's side
    // simply closes once its peer has finished and been answered).
    const int end = SSL_get_error(ssl, n);
    QVERIFY2(end == SSL_ERROR_ZERO_RETURN
                 || (end == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING),
             ERR_error_string(ERR_peek_error(), nullptr));
    QVERIFY(answer);
    QCOMPARE(answer->command, quint16(Frame::Response));
    QCOMPARE(answer->messageId, quint64(7));
    QCOMPARE(parser.next(), FrameParser::NeedMore);
    // JSON: the bytes in Base64, "bbb" being "YmJi".
    QVERIFY(answer->body == '"' + QByteArray("YmJi").repeated(size / 3) + '"');
    peer.close();
    QTRY_COMPARE(s.server.stats().connections(), 0);
}

void tst_Transports::whatATlsWriterCouldNotSendYetIsPendingUntilFlushed()
{
    // A TLS session encrypts several records at once and keeps what the kernel has no room
    // for (its backlog). The Outbox counts that as pending and sends it on flush, even when
    // nothing else is queued; the connection closes only once it is 0.
    int fds[2];
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    const int small = 4096; // the kernel takes a few KiB of the frame, no more
    QCOMPARE(::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
    QObject owner;
    TlsTransport transport(tlsServer());
    Stream *stream = transport.accept(fds[0], &owner);
    RawTlsPeer peer(fds[1]);
    SSL *ssl = peer.ssl.get();
    QCOMPARE(::fcntl(peer.fd, F_SETFL, O_NONBLOCK), 0);
    QTRY_VERIFY(SSL_connect(ssl) == 1 && stream->isReady()); // the server's side runs on events
    Outbox outbox(&owner, [] { });
    outbox.attach(stream);

    QByteArray frame;
    Frame::encode(frame, Frame::Response, 1, 9, {}, QByteArray(48 * 1024, 'x')); // 3 records
    QVERIFY(outbox.post(QByteArray(frame), Outbox::When::WriteNow));
    // All of it taken, most of it encrypted but not yet sent: pending, and blocked.
    const qsizetype waiting = outbox.pendingBytes();
    QVERIFY2(waiting > 16 * 1024, qPrintable(QString::number(waiting)));
    QCOMPARE(outbox.flush(), Outbox::FlushResult::Blocked);
    QCOMPARE(outbox.pendingBytes(), waiting);
    // The peer reads; each flush sends more, until nothing waits and the frame is whole.
    QByteArray received;
    char buffer[4096];
    QDeadlineTimer deadline(10000);
    while ((received.size() < frame.size() || outbox.pendingBytes() > 0) && !deadline.hasExpired()) {
        int n;
        while ((n = SSL_read(ssl, buffer, sizeof(buffer))) > 0)
            received.append(buffer, n);
        QCOMPARE(SSL_get_error(ssl, n), SSL_ERROR_WANT_READ);
        QVERIFY(outbox.flush() != Outbox::FlushResult::Failed);
    }
    QCOMPARE(outbox.pendingBytes(), 0);
    QCOMPARE(outbox.flush(), Outbox::FlushResult::Done);
    QVERIFY(received == frame);
    outbox.close();
}

void tst_Transports::aStalledHandshakeIsClosedAfterItsTimeout()
{
    RpcConfig config = tlsServer();
    config.setTlsHandshakeTimeoutMs(300);
    Server s(config);
    QTcpSocket silent;   // connects and says nothing
    QTcpSocket stalled;  // starts a TLS record and stops
    for (QTcpSocket *peer : {&silent, &stalled}) {
        peer->connectToHost(QStringLiteral("127.0.0.1"), s.address().port());
        QVERIFY(peer->waitForConnected(5000));
    }
    stalled.write(QByteArray("\x16\x03\x01\x02\x00\x01", 6));
    QVERIFY(stalled.waitForBytesWritten(5000));
    // Meanwhile a real client is served.
    RpcClient client(tlsClient());
    QCOMPARE(client.createDirectStub<TestService>(s.address())->add(2, 2), 4);
    for (QTcpSocket *peer : {&silent, &stalled})
        QVERIFY(peer->state() == QAbstractSocket::UnconnectedState || peer->waitForDisconnected(5000));
    QTRY_COMPARE(s.server.stats().handshakeFailures(), quint64(2));
    QTRY_COMPARE(s.server.stats().connections(), 1); // the failed ones are deleted just after
}

void tst_Transports::badTlsFilesFailStartNamingTheKey_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("reason");
    QTest::newRow("missing certificate") << "tls-cert" << "/nonexistent/cert.pem" << "tls-cert '/nonexistent/cert.pem'";
    QTest::newRow("certificate without PEM") << "tls-cert" << "KEYFILE" << "no PEM certificate";
    QTest::newRow("missing key") << "tls-key" << "/nonexistent/key.pem" << "tls-key '/nonexistent/key.pem'";
    QTest::newRow("key that is a certificate") << "tls-key" << "CERTFILE" << "no unencrypted PEM private key";
    QTest::newRow("no key at all") << "tls-key" << "" << "needs tls-cert and tls-key";
    QTest::newRow("missing CA") << "tls-ca" << "/nonexistent/ca.pem" << "tls-ca '/nonexistent/ca.pem'";
}

void tst_Transports::badTlsFilesFailStartNamingTheKey()
{
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(QString, reason);
    RpcConfig config = tlsServer();
    config.set(key, value == QLatin1String("KEYFILE") ? m_certs.key(QStringLiteral("server"))
                    : value == QLatin1String("CERTFILE") ? m_certs.cert(QStringLiteral("server"))
                                                         : value);
    RpcServer server(config);
    QVERIFY(!server.start());
    QVERIFY2(server.errorString().contains(reason), qPrintable(server.errorString()));
    QVERIFY(server.addresses().isEmpty());
}

// ---- Unix sockets ----------------------------------------------------------------------------

void tst_Transports::unixSocketsCarryTheirAccessInTheirMode_data()
{
    QTest::addColumn<QString>("access");
    QTest::addColumn<uint>("mode");
    QTest::newRow("user") << "user" << 0700u;
    QTest::newRow("group") << "group" << 0770u;
    QTest::newRow("world") << "world" << 0777u;
}

void tst_Transports::unixSocketsCarryTheirAccessInTheirMode()
{
    QFETCH(QString, access);
    QFETCH(uint, mode);
    const QString path = socketPath(QStringLiteral("mode-%1.sock").arg(access));
    RpcConfig config;
    config.setListen({QStringLiteral("unix://") + path});
    config.setUnixSocketAccess(access);
    Server s(config);
    QVERIFY2(s.started, qPrintable(s.server.errorString()));
    struct stat st{};
    QCOMPARE(::stat(path.toLocal8Bit().constData(), &st), 0);
    QVERIFY(S_ISSOCK(st.st_mode));
    QCOMPARE(uint(st.st_mode & 0777), mode);
}

void tst_Transports::anotherUserCannotConnectToAUserOnlySocket()
{
    if (::geteuid() != 0)
        QSKIP("needs root, to try the socket as another user (CI runs as root)");
    for (const QString &access : {QStringLiteral("user"), QStringLiteral("world")}) {
        const QString path = socketPath(QStringLiteral("who-%1.sock").arg(access));
        RpcConfig config;
        config.setListen({QStringLiteral("unix://") + path});
        config.setUnixSocketAccess(access);
        Server s(config);
        QVERIFY(s.started);
        const QByteArray p = path.toLocal8Bit();
        const pid_t child = ::fork();
        if (child == 0) {
            // Only async-signal-safe calls here: become "nobody", try, report errno.
            if (::setgid(65534) != 0 || ::setuid(65534) != 0)
                ::_exit(255);
            ::_exit(unixConnect(p));
        }
        int status = 0;
        QCOMPARE(::waitpid(child, &status, 0), child);
        QVERIFY(WIFEXITED(status));
        QCOMPARE(WEXITSTATUS(status), access == QLatin1String("user") ? EACCES : 0);
    }
}

void tst_Transports::aStaleSocketFileIsReplaced()
{
    const QString path = socketPath(QStringLiteral("stale.sock"));
    // A socket file whose process is gone: bound, never listened on, closed, left behind.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    qstrncpy(addr.sun_path, path.toLocal8Bit().constData(), sizeof(addr.sun_path));
    QCOMPARE(::bind(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)), 0);
    ::close(fd);
    QCOMPARE(unixConnect(path.toLocal8Bit()), ECONNREFUSED);

    RpcConfig config;
    config.setListen({QStringLiteral("unix://") + path});
    Server s(config);
    QVERIFY2(s.started, qPrintable(s.server.errorString()));
    RpcClient client;
    QCOMPARE(client.createDirectStub<TestService>(s.address())->add(20, 22), 42);
}

void tst_Transports::aLiveSocketOrAnotherFileIsNotTakenOver()
{
    const QString path = socketPath(QStringLiteral("live.sock"));
    RpcConfig config;
    config.setListen({QStringLiteral("unix://") + path});
    Server first(config);
    QVERIFY(first.started);
    RpcServer second(config);
    QVERIFY(!second.start());
    QVERIFY2(second.errorString().contains(QLatin1String("another process is listening")), qPrintable(second.errorString()));
    RpcClient client;
    QCOMPARE(client.createDirectStub<TestService>(first.address())->add(1, 1), 2);

    const QString file = socketPath(QStringLiteral("notes.txt"));
    QFile notes(file);
    QVERIFY(notes.open(QIODevice::WriteOnly));
    notes.write("keep me");
    notes.close();
    config.setListen({QStringLiteral("unix://") + file});
    RpcServer third(config);
    QVERIFY(!third.start());
    QVERIFY2(third.errorString().contains(QLatin1String("not a socket")), qPrintable(third.errorString()));
    QVERIFY(notes.open(QIODevice::ReadOnly));
    QCOMPARE(notes.readAll(), QByteArray("keep me"));
}

void tst_Transports::theSocketFileGoesWithTheServer()
{
    const QString path = socketPath(QStringLiteral("gone.sock"));
    RpcConfig config;
    config.setListen({QStringLiteral("unix://") + path});
    Server s(config);
    QVERIFY(QFile::exists(path));
    s.server.stop();
    QVERIFY(!QFile::exists(path));
}

QTEST_GUILESS_MAIN(tst_Transports)
#include "tst_transports.moc"

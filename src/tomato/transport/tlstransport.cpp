// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/tlstransport_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/core/rpcconfig.h>
#include <tomato/transport/socketstream_p.h>
#include <tomato/transport/tcptransport_p.h>
#include <tomato/wire/frameparser_p.h>
#include <tomato/wire/message_p.h>

#include <QtCore/QFile>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QSslKey>
#include <QtNetwork/QSslSocket>

#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Tomato {

// ---- TlsSettings -------------------------------------------------------------------------

TlsSettings::TlsSettings(const RpcConfig &config)
    : m_cert(config.tlsCert()), m_key(config.tlsKey()), m_ca(config.tlsCa()),
      m_verifyPeer(config.tlsVerifyPeer()), m_requireClientCert(config.tlsRequireClientCert()),
      m_handshakeTimeoutMs(config.tlsHandshakeTimeoutMs())
{
}

namespace {

bool readFile(const char *key, const QString &path, QByteArray *out, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1 '%2': %3").arg(QLatin1String(key), path, file.errorString());
        return false;
    }
    *out = file.readAll();
    return true;
}

bool readCertificates(const char *key, const QString &path, QList<QSslCertificate> *out, QString *error)
{
    QByteArray pem;
    if (!readFile(key, path, &pem, error))
        return false;
    *out = QSslCertificate::fromData(pem, QSsl::Pem);
    if (out->isEmpty()) {
        *error = QStringLiteral("%1 '%2': no PEM certificate in the file").arg(QLatin1String(key), path);
        return false;
    }
    return true;
}

bool readKey(const QString &path, QSslKey *out, QString *error)
{
    QByteArray pem;
    if (!readFile("tls-key", path, &pem, error))
        return false;
    for (const QSsl::KeyAlgorithm algorithm : {QSsl::Rsa, QSsl::Ec, QSsl::Dsa}) {
        *out = QSslKey(pem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!out->isNull())
            return true;
    }
    *error = QStringLiteral("tls-key '%1': no unencrypted PEM private key (RSA, EC or DSA) in the file").arg(path);
    return false;
}

} // namespace

TlsSettings::Loaded TlsSettings::load(bool serverSide) const
{
    Loaded result;
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setProtocol(QSsl::TlsV1_2OrLater);
    if (!m_ca.isEmpty()) {
        QList<QSslCertificate> ca;
        if (!readCertificates("tls-ca", m_ca, &ca, &result.error))
            return result;
        config.setCaCertificates(ca);
    }
    if (serverSide && (m_cert.isEmpty() || m_key.isEmpty())) {
        result.error = QStringLiteral("a TLS server needs tls-cert and tls-key");
        return result;
    }
    if (!m_cert.isEmpty() || !m_key.isEmpty()) {
        QList<QSslCertificate> chain;
        QSslKey key;
        if (m_cert.isEmpty() || m_key.isEmpty()) {
            result.error = QStringLiteral("tls-cert and tls-key go together: set both or neither");
            return result;
        }
        if (!readCertificates("tls-cert", m_cert, &chain, &result.error) || !readKey(m_key, &key, &result.error))
            return result;
        if (chain.first().expiryDate() < QDateTime::currentDateTimeUtc())
            qCWarning(lcTransport).noquote() << "tls-cert" << m_cert << "expired on"
                                             << chain.first().expiryDate().toString(Qt::ISODate);
        config.setLocalCertificateChain(chain);
        config.setPrivateKey(key);
    }
    if (serverSide) {
        config.setPeerVerifyMode(!m_requireClientCert ? QSslSocket::VerifyNone
                                 : m_verifyPeer       ? QSslSocket::VerifyPeer
                                                      : QSslSocket::QueryPeer);
    } else {
        config.setPeerVerifyMode(m_verifyPeer ? QSslSocket::VerifyPeer : QSslSocket::VerifyNone);
    }
    result.config = config;
    return result;
}

std::optional<QSslConfiguration> TlsSettings::server(QString *error) const
{
    QMutexLocker lock(&m_mutex);
    if (!m_server)
        m_server = load(true);
    *error = m_server->error;
    return m_server->config;
}

std::optional<QSslConfiguration> TlsSettings::client(QString *error) const
{
    QMutexLocker lock(&m_mutex);
    if (!m_client)
        m_client = load(false);
    *error = m_client->error;
    return m_client->config;
}

// ---- TlsStream ---------------------------------------------------------------------------

namespace {
constexpr uchar TlsHandshakeRecord = 0x16;

QString subjectOf(const QSslCertificate &c)
{
    static const QList<std::pair<QSslCertificate::SubjectInfo, const char *>> parts = {
        {QSslCertificate::CommonName, "CN"}, {QSslCertificate::OrganizationalUnitName, "OU"},
        {QSslCertificate::Organization, "O"}, {QSslCertificate::LocalityName, "L"},
        {QSslCertificate::StateOrProvinceName, "ST"}, {QSslCertificate::CountryName, "C"}};
    QStringList out;
    for (const auto &[info, name] : parts) {
        for (const QString &value : c.subjectInfo(info))
            out << QLatin1String(name) + QLatin1Char('=') + value;
    }
    return out.join(QLatin1Char(','));
}

} // namespace

TlsStream::TlsStream(int handshakeTimeoutMs, QObject *parent)
    : Stream(parent)
{
    m_handshakeTimer.setSingleShot(true);
    m_handshakeTimer.setInterval(handshakeTimeoutMs);
    QObject::connect(&m_handshakeTimer, &QTimer::timeout, this, [this] {
        fail(QStringLiteral("the TLS handshake with %1 did not finish within %2 ms")
                 .arg(m_peer).arg(m_handshakeTimer.interval()));
    });
}

TlsStream::~TlsStream()
{
    delete m_sniffer;
    if (m_descriptor >= 0)
        ::close(int(m_descriptor));
}

TlsStream *TlsStream::accept(qintptr descriptor, const TlsSettings &settings, QObject *parent)
{
    auto *s = new TlsStream(settings.handshakeTimeoutMs(), parent);
    s->m_serverSide = true;
    s->m_descriptor = descriptor;
    s->m_peer = SocketStream::describePeer(int(descriptor), QStringLiteral("tls"));
    QString error;
    const auto config = settings.server(&error);
    if (!config) {
        s->markEnded(error);
        return s;
    }
    s->m_config = *config;
    s->m_trustSubject = settings.verifiesClients();
    s->m_sniffer = new QSocketNotifier(descriptor, QSocketNotifier::Read);
    QObject::connect(s->m_sniffer, &QSocketNotifier::activated, s, &TlsStream::sniff);
    s->m_handshakeTimer.start();
    return s;
}

TlsStream *TlsStream::connectTo(const Endpoint &address, const TlsSettings &settings, QObject *parent)
{
    auto *s = new TlsStream(settings.handshakeTimeoutMs(), parent);
    s->m_peer = address.toString();
    QString error;
    const auto config = settings.client(&error);
    if (!config) {
        QMetaObject::invokeMethod(s, [s, error] { s->fail(QStringLiteral("TLS configuration: ") + error); },
                                  Qt::QueuedConnection);
        return s;
    }
    s->m_config = *config;
    s->m_trustSubject = config->peerVerifyMode() == QSslSocket::VerifyPeer;
    s->m_socket = new QSslSocket(s);
    s->m_socket->setSslConfiguration(*config);
    // Without it, Nagle's algorithm holds the last segment of every write for the peer's
    // delayed ACK: 40 ms stalls on handshakes and large frames.
    QObject::connect(s->m_socket, &QSslSocket::connected, s,
                     [s] { s->m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); });
    s->watchSocket();
    s->m_handshakeTimer.start();
    s->m_socket->connectToHostEncrypted(address.host(), address.port());
    return s;
}

// Server side: the first byte tells a TLS client from a plain one.
void TlsStream::sniff()
{
    uchar first = 0;
    const ssize_t n = ::recv(int(m_descriptor), &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    delete m_sniffer;
    m_sniffer = nullptr;
    if (n <= 0)
        return fail(QStringLiteral("%1 closed the connection before the TLS handshake").arg(m_peer));
    if (first == TlsHandshakeRecord)
        return startServerHandshake();
    if (first == Frame::Magic)
        return refusePlainText();
    fail(QStringLiteral("%1 sent bytes that start no TLS handshake (first byte 0x%2)")
             .arg(m_peer).arg(uint(first), 2, 16, QLatin1Char('0')));
}

// A plain Tomato client: tell it, in its own protocol, then close.
void TlsStream::refusePlainText()
{
    char scratch[4096];
    while (::recv(int(m_descriptor), scratch, sizeof(scratch), MSG_DONTWAIT) > 0) {
        // What it sent is not answered; reading it first lets the close be a FIN, not a
        // reset that could discard the error frame on its way.
    }
    const QByteArray frame = Message::errorFrame(
        RpcError::BadRequest, QStringLiteral("this port speaks TLS: connect with a tls:// address"));
    [[maybe_unused]] const ssize_t sent = ::send(int(m_descriptor), frame.constData(), size_t(frame.size()),
                                                 MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(int(m_descriptor), SHUT_WR);
    fail(QStringLiteral("%1 spoke plain Tomato-RPC to a TLS port").arg(m_peer));
}

void TlsStream::startServerHandshake()
{
    m_socket = new QSslSocket(this);
    m_socket->setSslConfiguration(m_config);
    if (!m_socket->setSocketDescriptor(m_descriptor, QAbstractSocket::ConnectedState, QIODevice::ReadWrite))
        return fail(QStringLiteral("cannot adopt the connection of %1: %2").arg(m_peer, m_socket->errorString()));
    m_descriptor = -1; // QSslSocket owns it now
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    watchSocket();
    m_socket->startServerEncryption();
}

void TlsStream::watchSocket()
{
    m_socket->setReadBufferSize(ReadBufferLimit);
    QObject::connect(m_socket, &QSslSocket::encrypted, this, &TlsStream::onEncrypted);
    QObject::connect(m_socket, &QSslSocket::sslErrors, this,
                     [this](const QList<QSslError> &errors) { m_sslErrors = errors; });
    QObject::connect(m_socket, &QSslSocket::errorOccurred, this, &TlsStream::onSocketError);
    // Qt may report the end before the error that caused it: look at both a moment later.
    QObject::connect(m_socket, &QSslSocket::disconnected, this,
                     [this] { QMetaObject::invokeMethod(this, &TlsStream::endAfterReading, Qt::QueuedConnection); });
    QObject::connect(m_socket, &QSslSocket::readyRead, this, &Stream::readyRead);
    QObject::connect(m_socket, &QSslSocket::encryptedBytesWritten, this, &Stream::writable);
}

void TlsStream::onEncrypted()
{
    m_handshakeTimer.stop();
    const QSslCertificate certificate = m_socket->peerCertificate();
    if (m_trustSubject && !certificate.isNull()) {
        m_subject = subjectOf(certificate);
        m_commonName = certificate.subjectInfo(QSslCertificate::CommonName).value(0);
    }
    markReady();
}

void TlsStream::onSocketError()
{
    if (m_socket->state() != QAbstractSocket::UnconnectedState && isReady()
        && m_socket->error() != QAbstractSocket::SslHandshakeFailedError)
        return; // e.g. a failed write: the stream goes on or closes by itself
    fail(endReason());
}

// Why the socket ended, in words: the certificate problems, the TLS alert, the socket error.
QString TlsStream::endReason() const
{
    QStringList reasons;
    for (const QSslError &e : std::as_const(m_sslErrors))
        reasons << e.errorString();
    if (reasons.isEmpty())
        reasons << m_socket->errorString();
    const QString why = reasons.join(QLatin1String("; "));
    // In TLS 1.3 a server checks the client's certificate after the client has finished its
    // side of the handshake, and Qt closes without sending the alert: say what it likely was.
    if (isReady() && !m_serverSide && !m_received)
        return QStringLiteral("%1 closed the TLS connection before answering (%2); it may require a client "
                              "certificate it trusts (tls-cert, tls-key)").arg(m_peer, why);
    if (isReady())
        return QStringLiteral("%1 (%2)").arg(m_peer, why);
    if (m_serverSide || !m_sslErrors.isEmpty() || m_socket->error() == QAbstractSocket::SslHandshakeFailedError
        || m_socket->error() == QAbstractSocket::SslInternalError || m_socket->isEncrypted()
        || m_socket->error() == QAbstractSocket::RemoteHostClosedError)
        return QStringLiteral("TLS handshake with %1 failed: %2").arg(m_peer, why);
    return QStringLiteral("cannot connect to %1: %2").arg(m_peer, why);
}

// The peer is gone, but what it sent before may still wait decrypted in the socket (a reader
// takes at most what its budget allows per read, and may be waiting for room): the reader
// gets it, and readInto() reports the end once it has taken the last byte. Until then this
// looks again now and then (the reader's own deadlines bound how long it may wait).
void TlsStream::endAfterReading()
{
    if (isClosed())
        return;
    if (isReady() && m_socket && m_socket->bytesAvailable() > 0) {
        Q_EMIT readyRead();
        if (!isClosed() && m_socket && m_socket->bytesAvailable() > 0)
            QTimer::singleShot(50, this, &TlsStream::endAfterReading);
        return;
    }
    fail(endReason());
}

void TlsStream::fail(const QString &why)
{
    if (isClosed())
        return;
    m_handshakeTimer.stop();
    delete m_sniffer;
    m_sniffer = nullptr;
    if (m_descriptor >= 0) {
        ::close(int(m_descriptor));
        m_descriptor = -1;
    }
    if (m_socket)
        m_socket->abort();
    markClosed(why);
}

bool TlsStream::readInto(FrameParser &parser, qint64 maxBytes)
{
    if (!m_socket || !isReady())
        return !isClosed();
    while (m_socket->bytesAvailable() > 0 && maxBytes > 0) {
        const qint64 available = qMin(m_socket->bytesAvailable(), maxBytes);
        char *space = parser.appendSpace(available);
        const qint64 n = m_socket->read(space, available);
        parser.commitAppend(n);
        if (n <= 0)
            break;
        maxBytes -= n;
        m_received = true;
    }
    if (m_socket->state() != QAbstractSocket::ConnectedState && m_socket->bytesAvailable() == 0) {
        markEnded(QStringLiteral("the peer closed the connection"));
        return false;
    }
    return true;
}

bool TlsStream::hasBufferedInput() const
{
    return m_socket && m_socket->bytesAvailable() > 0;
}

qint64 TlsStream::write(const char *data, qint64 size)
{
    if (!m_socket || m_socket->state() != QAbstractSocket::ConnectedState)
        return -1;
    const qint64 room = WriteBufferLimit - m_socket->bytesToWrite() - m_socket->encryptedBytesToWrite();
    if (room <= 0)
        return 0;
    return m_socket->write(data, qMin(room, size));
}

void TlsStream::close()
{
    if (m_socket)
        m_socket->disconnectFromHost();
    else
        fail(QStringLiteral("closed"));
}

void TlsStream::abort()
{
    fail(QStringLiteral("aborted"));
}

// ---- TlsTransport ------------------------------------------------------------------------

TlsTransport::TlsTransport(const RpcConfig &config) : m_settings(config) { }

std::unique_ptr<Listener> TlsTransport::createListener(Listener::AcceptHandler onAccept) const
{
    // Bad TLS files fail start(), not every connection later.
    return std::make_unique<TcpListener>(scheme(), std::move(onAccept), [this](QString *error) {
        if (m_settings.server(error))
            return true;
        *error = QStringLiteral("TLS configuration: ") + *error;
        return false;
    });
}

Stream *TlsTransport::accept(qintptr descriptor, QObject *parent) const
{
    return TlsStream::accept(descriptor, m_settings, parent);
}

Stream *TlsTransport::connect(const Endpoint &address, QObject *parent) const
{
    return TlsStream::connectTo(address, m_settings, parent);
}

} // namespace Tomato

// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/tlstransport_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/core/rpcconfig.h>
#include <tomato/transport/socketstream_p.h>
#include <tomato/transport/tcptransport_p.h>
#include <tomato/wire/frameparser_p.h>
#include <tomato/wire/message_p.h>

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QHostAddress>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
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

// OpenSSL reads this much from the kernel at a time (several records), so a large frame takes
// few system calls.
constexpr int ReadAhead = 64 << 10;

struct BioFree { void operator()(BIO *b) const { BIO_free(b); } };
struct X509Free { void operator()(X509 *x) const { X509_free(x); } };
struct KeyFree { void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); } };
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

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

bool readCertificates(const char *key, const QString &path, std::vector<X509Ptr> *out, QString *error)
{
    QByteArray pem;
    if (!readFile(key, path, &pem, error))
        return false;
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    while (X509 *c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
        out->emplace_back(c);
    ERR_clear_error(); // the end of the file reads as an error
    if (out->empty()) {
        *error = QStringLiteral("%1 '%2': no PEM certificate in the file").arg(QLatin1String(key), path);
        return false;
    }
    return true;
}

int noPassword(char *, int, int, void *)
{
    return 0; // an encrypted key is refused, not asked for
}

bool readKey(const QString &path, KeyPtr *out, QString *error)
{
    QByteArray pem;
    if (!readFile("tls-key", path, &pem, error))
        return false;
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    out->reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr));
    ERR_clear_error();
    if (*out)
        return true;
    *error = QStringLiteral("tls-key '%1': no unencrypted PEM private key (RSA, EC or DSA) in the file").arg(path);
    return false;
}

QString notAfter(X509 *certificate)
{
    tm when{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &when) != 1)
        return QStringLiteral("?");
    return QDateTime(QDate(when.tm_year + 1900, when.tm_mon + 1, when.tm_mday),
                     QTime(when.tm_hour, when.tm_min, when.tm_sec), Qt::UTC).toString(Qt::ISODate);
}

// What OpenSSL's error queue says, most recent last; empties the queue.
QString openSslErrors()
{
    QStringList reasons;
    while (const unsigned long e = ERR_get_error()) {
        const char *reason = ERR_reason_error_string(e);
        reasons << (reason ? QString::fromLatin1(reason) : QStringLiteral("OpenSSL error %1").arg(e));
    }
    reasons.removeDuplicates();
    return reasons.join(QLatin1String("; "));
}

// QueryPeer: a client certificate is asked for and its subject logged, but not checked.
int acceptAnyCertificate(int, X509_STORE_CTX *)
{
    return 1;
}

} // namespace

TlsSettings::Loaded TlsSettings::load(bool serverSide) const
{
    Loaded result;
    std::vector<X509Ptr> ca, chain;
    KeyPtr key;
    if (!m_ca.isEmpty() && !readCertificates("tls-ca", m_ca, &ca, &result.error))
        return result;
    if (serverSide && (m_cert.isEmpty() || m_key.isEmpty())) {
        result.error = QStringLiteral("a TLS server needs tls-cert and tls-key");
        return result;
    }
    if (!m_cert.isEmpty() || !m_key.isEmpty()) {
        if (m_cert.isEmpty() || m_key.isEmpty()) {
            result.error = QStringLiteral("tls-cert and tls-key go together: set both or neither");
            return result;
        }
        if (!readCertificates("tls-cert", m_cert, &chain, &result.error) || !readKey(m_key, &key, &result.error))
            return result;
        if (X509_cmp_current_time(X509_get0_notAfter(chain.front().get())) < 0)
            qCWarning(lcTransport).noquote() << "tls-cert" << m_cert << "expired on" << notAfter(chain.front().get());
    }

    TlsContext context(SSL_CTX_new(TLS_method()), SSL_CTX_free);
    SSL_CTX *ctx = context.get();
    if (!ctx) {
        result.error = QStringLiteral("OpenSSL cannot make a TLS context");
        return result;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // Partial writes: write() reports every record that went out. Moving buffers: a write
    // retried after "would block" may come from another copy of the same bytes. Released
    // buffers: an idle connection holds no record buffers (W4: 18.7 KB, not 90).
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                              | SSL_MODE_RELEASE_BUFFERS);
    // No renegotiation (TLS 1.2), and a peer that closes its socket without a close_notify
    // alert (an abort) has simply ended the stream. No session tickets: nobody resumes.
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, ReadAhead);

    if (!ca.empty()) {
        X509_STORE *store = SSL_CTX_get_cert_store(ctx);
        for (const X509Ptr &c : ca)
            X509_STORE_add_cert(store, c.get());
    } else {
        SSL_CTX_set_default_verify_paths(ctx); // the system's trusted authorities
    }
    if (key) {
        bool used = SSL_CTX_use_certificate(ctx, chain.front().get()) == 1;
        for (size_t i = 1; i < chain.size() && used; ++i)
            used = SSL_CTX_add1_chain_cert(ctx, chain[i].get()) == 1;
        if (!used || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
            // e.g. a key too weak for OpenSSL's security level (RSA under 2048 bits)
            result.error = QStringLiteral("tls-cert '%1' / tls-key '%2': OpenSSL refuses them: %3")
                               .arg(m_cert, m_key, openSslErrors());
            return result;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            ERR_clear_error();
            result.error = QStringLiteral("tls-key '%1' is not the key of tls-cert '%2'").arg(m_key, m_cert);
            return result;
        }
    }
    if (serverSide) {
        if (m_requireClientCert)
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                               m_verifyPeer ? nullptr : acceptAnyCertificate);
        else
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    } else {
        SSL_CTX_set_verify(ctx, m_verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    }
    ERR_clear_error();
    result.context = std::move(context);
    return result;
}

TlsContext TlsSettings::server(QString *error) const
{
    QMutexLocker lock(&m_mutex);
    if (!m_server)
        m_server = load(true);
    *error = m_server->error;
    return m_server->context;
}

TlsContext TlsSettings::client(QString *error) const
{
    QMutexLocker lock(&m_mutex);
    if (!m_client)
        m_client = load(false);
    *error = m_client->error;
    return m_client->context;
}

// ---- TlsStream ---------------------------------------------------------------------------

namespace {
constexpr uchar TlsHandshakeRecord = 0x16;

// "CN=client-a,O=Acme": the subject's usual parts, most specific first.
QString subjectOf(X509 *certificate, QString *commonName)
{
    static const std::pair<int, const char *> parts[] = {
        {NID_commonName, "CN"}, {NID_organizationalUnitName, "OU"}, {NID_organizationName, "O"},
        {NID_localityName, "L"}, {NID_stateOrProvinceName, "ST"}, {NID_countryName, "C"}};
    X509_NAME *name = X509_get_subject_name(certificate);
    QStringList out;
    for (const auto &[nid, label] : parts) {
        for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0; i = X509_NAME_get_index_by_NID(name, nid, i)) {
            unsigned char *utf8 = nullptr;
            const int size = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
            if (size < 0)
                continue;
            const QString value = QString::fromUtf8(reinterpret_cast<const char *>(utf8), size);
            OPENSSL_free(utf8);
            if (nid == NID_commonName && commonName->isEmpty())
                *commonName = value;
            out << QLatin1String(label) + QLatin1Char('=') + value;
        }
    }
    return out.join(QLatin1Char(','));
}

} // namespace

// Records encrypted but not yet sent, in order. A session gathers the records of one write
// here and sends them with one system call (a 1 MiB frame: 16 sends, not 64); what the
// kernel has no room for stays until the next write. Guarded by the session's lock.
struct TlsBacklog
{
    QByteArray bytes;
    qsizetype sent = 0;     // of bytes, already with the kernel
    bool gathering = false; // inside a session write

    qsizetype size() const { return bytes.size() - sent; }
    // Sends what it can: false when the connection is broken.
    bool send(int descriptor)
    {
        while (sent < bytes.size()) {
            const ssize_t n = ::send(descriptor, bytes.constData() + sent, size_t(bytes.size() - sent),
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) {
                sent += n;
            } else if (errno != EINTR) {
                return errno == EAGAIN || errno == EWOULDBLOCK;
            }
        }
        sent = 0;
        // Keep room for the next write, but not a large buffer on a connection gone quiet.
        if (bytes.capacity() > GatherBytes + (GatherBytes >> 1))
            bytes.clear();
        else
            bytes.resize(0);
        return true;
    }
    // Plain text a session encrypts before it sends: four records.
    static constexpr qint64 GatherBytes = 4 * SSL3_RT_MAX_PLAIN_LENGTH;
};

namespace {

// OpenSSL's socket BIO writes with write(2): a peer that has gone raises SIGPIPE, which ends
// the process. This one sends with MSG_NOSIGNAL (and reads with recv). Inside a session's
// write, and whenever records wait unsent, it appends to the session's backlog instead, so
// that records go out in order and several at a time.
int bioWrite(BIO *bio, const char *data, int size)
{
    BIO_clear_retry_flags(bio);
    if (auto *backlog = static_cast<TlsBacklog *>(BIO_get_app_data(bio));
        backlog && (backlog->gathering || backlog->size() > 0)) {
        backlog->bytes.append(data, size);
        return size;
    }
    while (true) {
        const ssize_t n = ::send(BIO_get_fd(bio, nullptr), data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0)
            return int(n);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(bio);
        return -1;
    }
}

int bioRead(BIO *bio, char *data, int size)
{
    BIO_clear_retry_flags(bio);
    while (true) {
        const ssize_t n = ::recv(BIO_get_fd(bio, nullptr), data, size_t(size), MSG_DONTWAIT);
        if (n >= 0)
            return int(n);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(bio);
        return -1;
    }
}

int bioPuts(BIO *bio, const char *text)
{
    return bioWrite(bio, text, int(std::strlen(text)));
}

// A socket BIO (its descriptor, its controls) with the two functions above; made once.
BIO *newSocketBio(int descriptor)
{
    static BIO_METHOD *const method = [] {
        const BIO_METHOD *socket = BIO_s_socket();
        BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOCKET, "tomato socket");
        BIO_meth_set_write(m, bioWrite);
        BIO_meth_set_read(m, bioRead);
        BIO_meth_set_puts(m, bioPuts);
        BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(socket));
        BIO_meth_set_create(m, BIO_meth_get_create(socket));
        BIO_meth_set_destroy(m, BIO_meth_get_destroy(socket));
        return m;
    }();
    BIO *bio = BIO_new(method);
    if (bio)
        BIO_set_fd(bio, descriptor, BIO_NOCLOSE);
    return bio;
}

// The certificate check that failed, in words.
QString verifyError(long result, const QString &host)
{
    switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return QStringLiteral("the certificate has expired");
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return QStringLiteral("the certificate is not yet valid");
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
        return QStringLiteral("the certificate's issuer is not trusted (%1; tls-ca names the trusted ones)")
            .arg(QLatin1String(X509_verify_cert_error_string(result)));
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return QStringLiteral("the host name '%1' is not one the certificate was issued for").arg(host);
    default:
        return QString::fromLatin1(X509_verify_cert_error_string(result));
    }
}


} // namespace

// The session of one connection: its SSL object and descriptor, freed with the last holder
// (the stream or the Outbox). Every use of the SSL object, and of the backlog, holds the lock.
class TlsSession final : public DirectWriter
{
public:
    TlsSession(SSL *ssl, int descriptor) : DirectWriter(descriptor), ssl(ssl)
    {
        BIO_set_app_data(SSL_get_wbio(ssl), &m_backlog);
    }
    ~TlsSession() override
    {
        SSL_free(ssl);
        ::close(m_descriptor);
    }

    // Encrypts up to four records at a time into the backlog and sends them together. Bytes
    // taken are encrypted: with the kernel, or in the backlog when its buffer filled (then
    // nothing more is taken until the backlog has gone).
    qint64 write(const char *data, qint64 size) override
    {
        QMutexLocker lock(&mutex);
        return writeLocked(data, size);
    }
    // Both pieces under one lock (no other frame comes between them), the head's record sent
    // with the tail's first ones.
    qint64 writeParts(const char *head, qint64 headSize, const char *tail, qint64 tailSize) override
    {
        QMutexLocker lock(&mutex);
        if (!m_backlog.send(m_descriptor))
            return -1;
        if (m_backlog.size() > 0)
            return 0;
        const qint64 first = encryptLocked(head, headSize, true);
        if (first < headSize)
            return first;
        const qint64 second = encryptLocked(tail, tailSize, false);
        return second < 0 ? -1 : first + second;
    }
    // The I/O thread's Stream::write() (a status page, not the Outbox): nothing is kept
    // back, so a writer that knows nothing of backlog() loses nothing at close. Records go
    // out one send() each; a record the kernel took part of must be offered again
    // (SSL_MODE_ENABLE_PARTIAL_WRITE, ACCEPT_MOVING_WRITE_BUFFER), as a writer does anyway
    // with the bytes not reported taken.
    qint64 writeEach(const char *data, qint64 size)
    {
        QMutexLocker lock(&mutex);
        if (!m_backlog.send(m_descriptor))
            return -1;
        if (m_backlog.size() > 0)
            return 0;
        ERR_clear_error();
        qint64 written = 0;
        while (written < size) {
            const int n = SSL_write(ssl, data + written, int(qMin<qint64>(size - written, INT_MAX)));
            if (n > 0) {
                written += n;
                continue;
            }
            const int error = SSL_get_error(ssl, n);
            ERR_clear_error();
            if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ)
                return written;
            return written > 0 ? written : -1;
        }
        return written;
    }
    qint64 backlog() const override
    {
        QMutexLocker lock(&mutex);
        return m_backlog.size();
    }
    // With the lock held: sends what waits (false when the connection is broken) / its size.
    bool sendBacklog() { return m_backlog.send(m_descriptor); }
    qint64 backlogLocked() const { return m_backlog.size(); }

    mutable QMutex mutex;
    SSL *const ssl;

private:
    qint64 writeLocked(const char *data, qint64 size)
    {
        // What an earlier write left goes first; nothing more is taken while some is left.
        if (!m_backlog.send(m_descriptor))
            return -1;
        return m_backlog.size() > 0 ? 0 : encryptLocked(data, size, false);
    }
    // Encrypts and sends, four records at a time, until the kernel has no more room (what it
    // did not take of the last ones stays in the backlog). `more`: the last ones wait in the
    // backlog for what the caller encrypts next.
    qint64 encryptLocked(const char *data, qint64 size, bool more)
    {
        qint64 written = 0;
        ERR_clear_error();
        while (written < size) {
            const qint64 end = written + qMin(size - written, TlsBacklog::GatherBytes);
            m_backlog.gathering = true;
            while (written < end) {
                // Partial writes: each call encrypts one record, which the BIO gathers.
                const int n = SSL_write(ssl, data + written, int(end - written));
                if (n <= 0)
                    break;
                written += n;
            }
            m_backlog.gathering = false;
            if (written < end) { // the session failed (the BIO never refuses a record)
                ERR_clear_error();
                return -1;
            }
            if (more && written == size)
                break;
            if (!m_backlog.send(m_descriptor))
                return -1;
            if (m_backlog.size() > 0)
                break;
        }
        return written;
    }

    TlsBacklog m_backlog;
};

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
    release();
}

// Lets go of everything: the session, the notifiers, the descriptor.
void TlsStream::release()
{
    m_handshakeTimer.stop();
    delete m_sniffer;
    m_sniffer = nullptr;
    delete m_readable;
    m_readable = nullptr;
    delete m_writable;
    m_writable = nullptr;
    delete m_tcp;
    m_tcp = nullptr;
    if (m_session) {
        m_session.reset(); // closed now, or when the Outbox lets go too
        m_ssl = nullptr;
    } else if (m_fd >= 0) {
        ::close(m_fd);
    }
    m_fd = -1;
    m_buffered = false;
}

TlsStream *TlsStream::accept(qintptr descriptor, const TlsSettings &settings, QObject *parent)
{
    auto *s = new TlsStream(settings.handshakeTimeoutMs(), parent);
    s->m_serverSide = true;
    s->m_fd = int(descriptor);
    s->m_peer = SocketStream::describePeer(s->m_fd, QStringLiteral("tls"));
    // Without it, Nagle's algorithm holds the last segment of every write for the peer's
    // delayed ACK: 40 ms stalls on handshakes and large frames.
    const int on = 1;
    ::setsockopt(s->m_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    QString error;
    s->m_context = settings.server(&error);
    if (!s->m_context) {
        s->release();
        s->markEnded(error);
        return s;
    }
    s->m_trustSubject = settings.verifiesClients();
    s->m_sniffer = new QSocketNotifier(s->m_fd, QSocketNotifier::Read);
    QObject::connect(s->m_sniffer, &QSocketNotifier::activated, s, &TlsStream::sniff);
    s->m_handshakeTimer.start();
    return s;
}

TlsStream *TlsStream::connectTo(const Endpoint &address, const TlsSettings &settings, QObject *parent)
{
    auto *s = new TlsStream(settings.handshakeTimeoutMs(), parent);
    s->m_peer = address.toString();
    s->m_host = address.host();
    QString error;
    s->m_context = settings.client(&error);
    if (!s->m_context) {
        QMetaObject::invokeMethod(s, [s, error] { s->fail(QStringLiteral("TLS configuration: ") + error); },
                                  Qt::QueuedConnection);
        return s;
    }
    s->m_trustSubject = settings.verifiesServers();
    s->m_tcp = SocketStream::connectTo(address, s, true);
    QObject::connect(s->m_tcp, &Stream::ready, s, &TlsStream::onTcpConnected);
    QObject::connect(s->m_tcp, &Stream::closed, s, [s] {
        const QString why = s->m_tcp->errorString();
        s->m_tcp->deleteLater(); // it is inside its signal now
        s->m_tcp = nullptr;
        s->fail(why);
    });
    s->m_handshakeTimer.start();
    return s;
}

void TlsStream::onTcpConnected()
{
    m_fd = m_tcp->takeDescriptor();
    m_tcp->deleteLater();
    m_tcp = nullptr;
    startSession();
}

// Server side: the first byte tells a TLS client from a plain one.
void TlsStream::sniff()
{
    uchar first = 0;
    const ssize_t n = ::recv(m_fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    delete m_sniffer;
    m_sniffer = nullptr;
    if (n <= 0)
        return fail(QStringLiteral("%1 closed the connection before the TLS handshake").arg(m_peer));
    if (first == TlsHandshakeRecord)
        return startSession();
    if (first == Frame::Magic)
        return refusePlainText();
    fail(QStringLiteral("%1 sent bytes that start no TLS handshake (first byte 0x%2)")
             .arg(m_peer).arg(uint(first), 2, 16, QLatin1Char('0')));
}

// A plain Tomato client: tell it, in its own protocol, then close.
void TlsStream::refusePlainText()
{
    char scratch[4096];
    while (::recv(m_fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0) {
        // What it sent is not answered; reading it first lets the close be a FIN, not a
        // reset that could discard the error frame on its way.
    }
    const QByteArray frame = Message::errorFrame(
        RpcError::BadRequest, QStringLiteral("this port speaks TLS: connect with a tls:// address"));
    [[maybe_unused]] const ssize_t sent = ::send(m_fd, frame.constData(), size_t(frame.size()),
                                                 MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(m_fd, SHUT_WR);
    fail(QStringLiteral("%1 spoke plain Tomato-RPC to a TLS port").arg(m_peer));
}

// The TCP connection is up (and, server side, speaks TLS): the handshake starts.
void TlsStream::startSession()
{
    ERR_clear_error();
    SSL *ssl = SSL_new(m_context.get());
    BIO *bio = ssl ? newSocketBio(m_fd) : nullptr;
    if (!bio) {
        SSL_free(ssl);
        return fail(QStringLiteral("TLS handshake with %1 failed: %2").arg(m_peer, openSslErrors()));
    }
    SSL_set_bio(ssl, bio, bio); // the SSL object owns it now
    m_session = std::make_shared<TlsSession>(ssl, m_fd);
    m_ssl = ssl;
    if (m_serverSide) {
        SSL_set_accept_state(m_ssl);
    } else {
        SSL_set_connect_state(m_ssl);
        const QByteArray host = m_host.toUtf8();
        if (QHostAddress(m_host).isNull()) {
            SSL_set_tlsext_host_name(m_ssl, host.constData()); // SNI: names only
            SSL_set1_host(m_ssl, host.constData());
        } else {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(m_ssl), host.constData());
        }
    }
    m_readable = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    QObject::connect(m_readable, &QSocketNotifier::activated, this, &TlsStream::onReadable);
    m_writable = new QSocketNotifier(m_fd, QSocketNotifier::Write, this);
    m_writable->setEnabled(false);
    QObject::connect(m_writable, &QSocketNotifier::activated, this, &TlsStream::onWritable);
    continueHandshake();
}

void TlsStream::continueHandshake()
{
    ERR_clear_error();
    const int result = SSL_do_handshake(m_ssl);
    if (result == 1) {
        m_handshakeTimer.stop();
        // From now on the Outbox waits for room itself (its own notifier on the descriptor).
        delete m_writable;
        m_writable = nullptr;
        if (m_trustSubject) {
            if (X509 *certificate = SSL_get1_peer_certificate(m_ssl)) {
                m_subject = subjectOf(certificate, &m_commonName);
                X509_free(certificate);
            }
        }
        markReady();
        // The peer's first records may have come with the handshake's last: look at once.
        if (!isClosed())
            QMetaObject::invokeMethod(this, &TlsStream::onReadable, Qt::QueuedConnection);
        return;
    }
    switch (SSL_get_error(m_ssl, result)) {
    case SSL_ERROR_WANT_READ:
        return waitToWrite(false);
    case SSL_ERROR_WANT_WRITE:
        return waitToWrite(true);
    default:
        return fail(handshakeError(result));
    }
}

QString TlsStream::handshakeError(int result) const
{
    const long verified = SSL_get_verify_result(m_ssl);
    const int saved = errno;
    QString why = openSslErrors();
    if (verified != X509_V_OK && (m_serverSide || m_trustSubject))
        why = verifyError(verified, m_host);
    else if (why.isEmpty())
        why = result == 0 || saved == 0 ? QStringLiteral("the peer closed the connection")
                                        : QString::fromLocal8Bit(std::strerror(saved));
    return QStringLiteral("TLS handshake with %1 failed: %2").arg(m_peer, why);
}

// Why an established session ended, in words.
QString TlsStream::sessionError(int result) const
{
    const int saved = errno;
    QString why = openSslErrors();
    if (why.isEmpty())
        why = result == 0 || saved == 0 ? QStringLiteral("the peer closed the connection")
                                        : QString::fromLocal8Bit(std::strerror(saved));
    // In TLS 1.3 a server checks the client's certificate after the client has finished its
    // side of the handshake: a refusal arrives as the first thing read. Say what it likely was.
    if (!m_serverSide && !m_received)
        return QStringLiteral("%1 closed the TLS connection before answering (%2); it may require a client "
                              "certificate it trusts (tls-cert, tls-key)").arg(m_peer, why);
    return QStringLiteral("%1 (%2)").arg(m_peer, why);
}

void TlsStream::waitToWrite(bool on)
{
    if (m_writable && m_writable->isEnabled() != on)
        m_writable->setEnabled(on);
}

void TlsStream::onReadable()
{
    if (isClosed() || !m_ssl) {
        if (m_readable)
            m_readable->setEnabled(false); // an ended stream's descriptor stays readable
        return;
    }
    if (!isReady())
        return continueHandshake();
    m_readCalled = false;
    Q_EMIT readyRead();
    // Not read (paused by flow control): quiet until readInto(), as SocketStream is.
    if (!m_readCalled && m_readable && !isClosed())
        m_readable->setEnabled(false);
}

void TlsStream::onWritable()
{
    waitToWrite(false);
    if (!isClosed() && m_ssl && !isReady())
        continueHandshake();
}

void TlsStream::fail(const QString &why)
{
    if (isClosed())
        return;
    release();
    markClosed(why);
}

bool TlsStream::readInto(FrameParser &parser, qint64 maxBytes)
{
    if (!m_ssl || !isReady())
        return !isClosed();
    m_readCalled = true;
    if (m_readable && !m_readable->isEnabled())
        m_readable->setEnabled(true);
    // Room for everything that can be had now: what OpenSSL holds plus what the kernel holds
    // (records only shrink when decrypted), in one piece so the parser's buffer grows once.
    // A second round only when OpenSSL read ahead of what the first had room for.
    qint64 taken = 0;
    int result = 1;
    int error = SSL_ERROR_NONE;
    QMutexLocker lock(&m_session->mutex); // a writer on another thread uses the session too
    const qint64 backlogBefore = m_session->backlogLocked();
    ERR_clear_error();
    int queued = 0;
    while (taken < maxBytes) {
        ::ioctl(m_fd, FIONREAD, &queued);
        const qint64 ready = qint64(queued) + SSL_pending(m_ssl) + (SSL_has_pending(m_ssl) ? ReadAhead : 0);
        const qint64 want = qMin(qMax<qint64>(ready, 1), maxBytes - taken);
        char *space = parser.appendSpace(want);
        qint64 got = 0;
        while (got < want) {
            result = SSL_read(m_ssl, space + got, int(qMin<qint64>(want - got, INT_MAX)));
            if (result <= 0) {
                error = SSL_get_error(m_ssl, result);
                break;
            }
            got += result;
        }
        parser.commitAppend(got);
        taken += got;
        // Filled: what the kernel still holds wakes the notifier again; only what OpenSSL
        // alone holds (it read ahead of the limit) needs another round now.
        if (error != SSL_ERROR_NONE || !SSL_has_pending(m_ssl))
            break;
        ::ioctl(m_fd, FIONREAD, &queued);
        if (queued > 0)
            break;
    }
    if (taken > 0)
        m_received = true;
    // Stopped by the limit with more inside OpenSSL: the kernel will not wake us for it.
    m_buffered = error == SSL_ERROR_NONE && SSL_has_pending(m_ssl);
    // A record the read had to answer with (a key update), queued behind unsent ones: send
    // it, or look again soon. (A backlog the Outbox left is the Outbox's to wait for.)
    const bool writeLeft = m_session->backlogLocked() > backlogBefore && m_session->sendBacklog()
        && m_session->backlogLocked() > 0;
    const QString why = error == SSL_ERROR_NONE || error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE
                            ? QString() : sessionError(result);
    lock.unlock();
    if (writeLeft || error == SSL_ERROR_WANT_WRITE) {
        // An answer to a key update waits for room in the kernel's buffer: look again soon
        // (the Outbox's own writes make that room, and send the backlog too).
        if (!std::exchange(m_readWantsWrite, true)) {
            QTimer::singleShot(5, this, [this] {
                m_readWantsWrite = false;
                if (m_session && !isClosed()) {
                    QMutexLocker relock(&m_session->mutex);
                    m_session->sendBacklog();
                }
                onReadable();
            });
        }
    }
    switch (error) {
    case SSL_ERROR_NONE:
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return true;
    case SSL_ERROR_ZERO_RETURN:
        if (taken > 0) {
            // The end comes with the next read; the kernel may have nothing left to wake us.
            QMetaObject::invokeMethod(this, &TlsStream::onReadable, Qt::QueuedConnection);
            return true;
        }
        m_readable->setEnabled(false);
        markEnded(m_serverSide || m_received ? QStringLiteral("the peer closed the connection") : why);
        return false;
    default:
        if (taken > 0) {
            QMetaObject::invokeMethod(this, &TlsStream::onReadable, Qt::QueuedConnection);
            return true;
        }
        m_readable->setEnabled(false);
        markEnded(why);
        return false;
    }
}

qint64 TlsStream::write(const char *data, qint64 size)
{
    if (!m_session || !isReady() || isClosed())
        return -1;
    return m_session->writeEach(data, size);
}

SharedWriter TlsStream::directWriter() const
{
    if (!isReady() || isClosed())
        return {};
    return m_session;
}

void TlsStream::close()
{
    if (m_ssl && isReady() && !isClosed()) {
        // close_notify, then the end of our side; what write() took is in the kernel already
        // (the Outbox waits for the session's backlog before it lets the stream close).
        {
            QMutexLocker lock(&m_session->mutex);
            ERR_clear_error();
            SSL_shutdown(m_ssl);
            ERR_clear_error();
            m_session->sendBacklog(); // the alert, behind any records still unsent
        }
        ::shutdown(m_fd, SHUT_WR);
        // As SocketStream::close: drop what has arrived, so the close is a FIN, not a reset.
        char sink[4096];
        for (int i = 0; i < 64 && ::recv(m_fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; ++i) { }
    }
    fail(QStringLiteral("closed"));
}

void TlsStream::abort()
{
    // The connection ends now for every holder of the session: an Outbox writing to it from
    // another thread gets an error instead of writing into a connection we gave up on.
    if (m_fd >= 0)
        ::shutdown(m_fd, SHUT_RDWR);
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

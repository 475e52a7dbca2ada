// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/socketstream_p.h>

#include <tomato/wire/frameparser_p.h>

#include <QtCore/QSocketNotifier>
#include <QtNetwork/QHostInfo>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>

namespace Tomato {

namespace {
QString lastError()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}
} // namespace

SocketStream::SocketStream(const QString &scheme, QObject *parent)
    : Stream(parent), m_scheme(scheme)
{
}

SocketStream::~SocketStream()
{
    closeDescriptor();
}

void SocketStream::closeDescriptor()
{
    delete m_readable;
    m_readable = nullptr;
    delete m_connecting;
    m_connecting = nullptr;
    if (m_writer)
        m_writer.reset(); // closed now, or when the Outbox lets go too
    else if (m_fd >= 0)
        ::close(m_fd);    // still connecting: nobody else has it
    m_fd = -1;
}

QString SocketStream::describePeer(int descriptor, const QString &scheme)
{
    if (scheme == QLatin1String("unix")) {
        ucred cred{};
        socklen_t len = sizeof(cred);
        if (::getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
            return QStringLiteral("unix (pid %1, uid %2)").arg(cred.pid).arg(cred.uid);
        return QStringLiteral("unix");
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getpeername(descriptor, reinterpret_cast<sockaddr *>(&addr), &len) != 0)
        return scheme + QLatin1String("://?");
    quint16 port = 0;
    if (addr.ss_family == AF_INET)
        port = ntohs(reinterpret_cast<const sockaddr_in *>(&addr)->sin_port);
    else if (addr.ss_family == AF_INET6)
        port = ntohs(reinterpret_cast<const sockaddr_in6 *>(&addr)->sin6_port);
    return Endpoint(scheme, QHostAddress(reinterpret_cast<const sockaddr *>(&addr)).toString(), port).toString();
}

// ---- server side -------------------------------------------------------------------------

SocketStream *SocketStream::adopt(qintptr descriptor, const QString &scheme, QObject *parent)
{
    auto *s = new SocketStream(scheme, parent);
    s->m_fd = int(descriptor);
    s->m_peer = describePeer(s->m_fd, scheme);
    s->becomeReady();
    return s;
}

void SocketStream::becomeReady()
{
    if (m_scheme != QLatin1String("unix")) {
        const int on = 1;
        ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    }
    if (m_handOver)
        return markReady(); // takeDescriptor() next
    m_writer = makeSocketWriter(m_fd);
    m_readable = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    connect(m_readable, &QSocketNotifier::activated, this, [this] {
        m_readCalled = false;
        Q_EMIT readyRead();
        // Not read (paused by flow control): stay quiet until readInto(), or the level-
        // triggered notifier would fire again at once, for ever. The common case, a read in
        // every readyRead, never toggles it (each toggle costs the event loop a pass).
        if (!m_readCalled && m_readable)
            m_readable->setEnabled(false);
    });
    markReady();
}

// ---- client side -------------------------------------------------------------------------

SocketStream *SocketStream::connectTo(const Endpoint &address, QObject *parent, bool handOver)
{
    auto *s = new SocketStream(address.scheme(), parent);
    s->m_handOver = handOver;
    s->m_peer = address.toString();
    if (address.hasPath()) {
        QMetaObject::invokeMethod(s, [s, path = address.path()] { s->connectUnix(path); }, Qt::QueuedConnection);
        return s;
    }
    QHostAddress literal;
    if (literal.setAddress(address.host())) {
        QMetaObject::invokeMethod(s, [s, literal, port = address.port()] { s->connectTcp({literal}, port); },
                                  Qt::QueuedConnection);
    } else {
        QHostInfo::lookupHost(address.host(), s, [s, port = address.port()](const QHostInfo &info) {
            s->onLookedUp(info, port);
        });
    }
    return s;
}

int SocketStream::takeDescriptor()
{
    Q_ASSERT(m_handOver && !m_writer);
    return std::exchange(m_fd, -1);
}

void SocketStream::fail(const QString &why)
{
    closeDescriptor();
    markClosed(isReady() ? why : QStringLiteral("cannot connect to %1: %2").arg(m_peer, why));
}

void SocketStream::connectUnix(const QString &path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const QByteArray encoded = path.toLocal8Bit();
    if (encoded.size() >= qsizetype(sizeof(addr.sun_path)))
        return fail(QStringLiteral("the path is longer than %1 bytes").arg(sizeof(addr.sun_path) - 1));
    std::memcpy(addr.sun_path, encoded.constData(), size_t(encoded.size()));
    m_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (m_fd < 0)
        return fail(lastError());
    if (::connect(m_fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0) {
        // EAGAIN: the server's accept backlog is full; like a refused TCP connect, the caller
        // may try again (ConnectFailed is retryable).
        return fail(errno == EAGAIN ? QStringLiteral("the server's accept backlog is full") : lastError());
    }
    becomeReady();
}

void SocketStream::onLookedUp(const QHostInfo &info, quint16 port)
{
    if (info.error() != QHostInfo::NoError || info.addresses().isEmpty())
        return fail(info.errorString());
    connectTcp(info.addresses(), port);
}

// Tries the addresses in turn, each with a non-blocking connect.
void SocketStream::connectTcp(const QList<QHostAddress> &addresses, quint16 port)
{
    m_candidates = addresses;
    m_port = port;
    while (!m_candidates.isEmpty()) {
        const QHostAddress a = m_candidates.takeFirst();
        sockaddr_storage addr{};
        socklen_t len = 0;
        if (a.protocol() == QAbstractSocket::IPv4Protocol) {
            auto *in = reinterpret_cast<sockaddr_in *>(&addr);
            in->sin_family = AF_INET;
            in->sin_port = htons(port);
            in->sin_addr.s_addr = htonl(a.toIPv4Address());
            len = sizeof(sockaddr_in);
        } else {
            auto *in6 = reinterpret_cast<sockaddr_in6 *>(&addr);
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(port);
            const Q_IPV6ADDR v6 = a.toIPv6Address();
            std::memcpy(&in6->sin6_addr, &v6, sizeof(v6));
            len = sizeof(sockaddr_in6);
        }
        m_fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (m_fd < 0) {
            m_lastError = lastError();
            continue;
        }
        if (::connect(m_fd, reinterpret_cast<const sockaddr *>(&addr), len) == 0)
            return becomeReady();
        if (errno == EINPROGRESS) {
            m_connecting = new QSocketNotifier(m_fd, QSocketNotifier::Write, this);
            connect(m_connecting, &QSocketNotifier::activated, this, &SocketStream::onConnectDone);
            return;
        }
        m_lastError = lastError();
        ::close(m_fd);
        m_fd = -1;
    }
    fail(m_lastError.isEmpty() ? QStringLiteral("no address") : m_lastError);
}

void SocketStream::onConnectDone()
{
    delete m_connecting;
    m_connecting = nullptr;
    int error = 0;
    socklen_t len = sizeof(error);
    if (::getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
        error = errno;
    if (error == 0)
        return becomeReady();
    m_lastError = QString::fromLocal8Bit(std::strerror(error));
    ::close(m_fd);
    m_fd = -1;
    connectTcp(m_candidates, m_port); // the next address, or fail
}

// ---- reading and writing -----------------------------------------------------------------

bool SocketStream::readInto(FrameParser &parser, qint64 maxBytes)
{
    if (m_fd < 0 || !isReady() || isClosed())
        return false;
    while (true) {
        // Exactly what is queued: no read-ahead buffer, and no second recv() to find out
        // that nothing is left (what arrives meanwhile wakes the notifier again).
        int queued = 0;
        ::ioctl(m_fd, FIONREAD, &queued);
        const qint64 want = qMin<qint64>(qMax<qint64>(1, queued), qMax<qint64>(1, maxBytes));
        char *space = parser.appendSpace(want);
        const ssize_t n = ::recv(m_fd, space, size_t(want), MSG_DONTWAIT);
        parser.commitAppend(n > 0 ? n : 0);
        if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) {
            m_readCalled = true;
            if (!m_readable->isEnabled())
                m_readable->setEnabled(true);
            return true;
        }
        if (n < 0 && errno == EINTR)
            continue;
        // 0: the peer finished sending (it may still read: our descriptor stays open for the
        // Outbox's answers); < 0: the connection broke.
        markEnded(n == 0 ? QStringLiteral("the peer closed the connection")
                         : QStringLiteral("connection with %1 failed: %2").arg(m_peer, lastError()));
        return false;
    }
}

qint64 SocketStream::write(const char *data, qint64 size)
{
    if (m_fd < 0)
        return -1;
    while (true) {
        const ssize_t n = ::send(m_fd, data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    }
}

void SocketStream::close()
{
    // What was written goes out, then the end: the descriptor itself is closed with the stream.
    if (m_fd >= 0) {
        delete m_readable;
        m_readable = nullptr;
        ::shutdown(m_fd, SHUT_WR);
        // Bytes left unread when the descriptor closes make the kernel reset the connection,
        // which can destroy our last words (an Error frame) before the peer reads them: drop
        // what has arrived (bounded; a peer that keeps sending gets its reset).
        char sink[4096];
        for (int i = 0; i < 64 && ::recv(m_fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; ++i) { }
    }
    markClosed(QStringLiteral("closed"));
}

void SocketStream::abort()
{
    // The connection ends now for every holder of the descriptor: an Outbox writing to it
    // from another thread gets an error instead of writing into a connection we gave up on.
    if (m_writer)
        ::shutdown(m_fd, SHUT_RDWR);
    closeDescriptor();
    markClosed(QStringLiteral("aborted"));
}

} // namespace Tomato

#include <tomato/transport/socketstream_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/wire/frameparser_p.h>

#include <QtNetwork/QTcpSocket>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace Tomato {

namespace {
constexpr auto Unbuffered = QIODevice::ReadWrite | QIODevice::Unbuffered;
}

SocketStream::SocketStream(const QString &scheme, QObject *parent)
    : Stream(parent), m_socket(new QTcpSocket(this)), m_scheme(scheme)
{
}

SocketStream *SocketStream::adopt(qintptr descriptor, const QString &scheme, QObject *parent)
{
    auto *s = new SocketStream(scheme, parent);
    // Unbuffered: reads go straight from the kernel into the parser and writes straight to
    // the kernel, with no copy into QTcpSocket buffers in between.
    if (!s->m_socket->setSocketDescriptor(descriptor, QAbstractSocket::ConnectedState, Unbuffered)) {
        ::close(int(descriptor));
        s->markEnded(QStringLiteral("cannot adopt an accepted socket: ") + s->m_socket->errorString());
        return s;
    }
    if (scheme == QLatin1String("tcp"))
        s->m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    s->m_peer = s->describePeer();
    s->watchSocket();
    s->markReady();
    return s;
}

SocketStream *SocketStream::connectTo(const Endpoint &address, QObject *parent)
{
    auto *s = new SocketStream(address.scheme(), parent);
    s->m_target = address.toString();
    s->m_peer = s->m_target;
    s->watchSocket();
    if (address.hasPath()) {
        // A Unix connect either succeeds or fails at once; report it from the event loop
        // like a TCP connect, never from inside this call.
        QMetaObject::invokeMethod(s, [s, path = address.path()] { s->connectUnix(path); },
                                  Qt::QueuedConnection);
    } else {
        QObject::connect(s->m_socket, &QTcpSocket::connected, s, &SocketStream::onConnected);
        s->m_socket->connectToHost(address.host(), address.port(), Unbuffered);
    }
    return s;
}

void SocketStream::watchSocket()
{
    connect(m_socket, &QTcpSocket::readyRead, this, &Stream::readyRead);
    connect(m_socket, &QTcpSocket::disconnected, this,
            [this] { markClosed(QStringLiteral("%1 closed the connection").arg(m_peer)); });
    connect(m_socket, &QTcpSocket::errorOccurred, this, [this] {
        if (m_socket->state() == QAbstractSocket::UnconnectedState)
            markClosed(isReady() ? m_socket->errorString()
                                 : QStringLiteral("cannot connect to %1: %2").arg(m_target, m_socket->errorString()));
    });
}

void SocketStream::onConnected()
{
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    markReady();
}

void SocketStream::connectUnix(const QString &path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const QByteArray encoded = path.toLocal8Bit();
    if (fd < 0 || encoded.size() >= qsizetype(sizeof(addr.sun_path))) {
        const QString why = fd < 0 ? QString::fromLocal8Bit(std::strerror(errno))
                                   : QStringLiteral("the path is longer than %1 bytes").arg(sizeof(addr.sun_path) - 1);
        if (fd >= 0)
            ::close(fd);
        markClosed(QStringLiteral("cannot connect to %1: %2").arg(m_target, why));
        return;
    }
    std::memcpy(addr.sun_path, encoded.constData(), size_t(encoded.size()));
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0) {
        // EAGAIN: the server's accept backlog is full; like a refused TCP connect, the caller
        // may try again (ConnectFailed is retryable).
        const QString why = errno == EAGAIN ? QStringLiteral("the server's accept backlog is full")
                                            : QString::fromLocal8Bit(std::strerror(errno));
        ::close(fd);
        markClosed(QStringLiteral("cannot connect to %1: %2").arg(m_target, why));
        return;
    }
    if (!m_socket->setSocketDescriptor(fd, QAbstractSocket::ConnectedState, Unbuffered)) {
        ::close(fd);
        markClosed(QStringLiteral("cannot connect to %1: %2").arg(m_target, m_socket->errorString()));
        return;
    }
    markReady();
}

QString SocketStream::describePeer() const
{
    if (m_scheme != QLatin1String("unix")) {
        const QHostAddress a = m_socket->peerAddress();
        const QString host = a.protocol() == QAbstractSocket::IPv6Protocol
            ? QLatin1Char('[') + a.toString() + QLatin1Char(']') : a.toString();
        return QStringLiteral("%1://%2:%3").arg(m_scheme, host).arg(m_socket->peerPort());
    }
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(int(m_socket->socketDescriptor()), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        return QStringLiteral("unix (pid %1, uid %2)").arg(cred.pid).arg(cred.uid);
    return QStringLiteral("unix");
}

// An unbuffered QTcpSocket needs a read() after every readyRead (it re-arms the notifier)
// and reports the peer's close only as a failed read, without emitting disconnected(): so
// this always reads at least once and returns false when the connection is gone.
bool SocketStream::readInto(FrameParser &parser)
{
    if (isClosed() || m_socket->state() != QAbstractSocket::ConnectedState)
        return false;
    while (true) {
        const qint64 want = qMax<qint64>(m_socket->bytesAvailable(), 1);
        char *space = parser.appendSpace(want);
        const qint64 n = m_socket->read(space, want);
        parser.commitAppend(n);
        if (n < 0) {
            markEnded(QStringLiteral("%1 closed the connection").arg(m_peer));
            return false;
        }
        if (n < want)
            return true;
    }
}

qint64 SocketStream::write(const char *data, qint64 size)
{
    const qintptr fd = m_socket->socketDescriptor();
    if (fd < 0)
        return -1;
    while (true) {
        const ssize_t n = ::send(int(fd), data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    }
}

qintptr SocketStream::directWriteDescriptor() const
{
    return m_socket->socketDescriptor();
}

void SocketStream::close()
{
    m_socket->disconnectFromHost();
}

void SocketStream::abort()
{
    m_socket->abort();
}

} // namespace Tomato

#include <tomato/transport/unixtransport_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/transport/socketstream_p.h>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace Tomato {

class UnixListener::Server final : public QLocalServer
{
public:
    explicit Server(UnixListener *listener) : QLocalServer(listener), m_listener(listener) { }

protected:
    void incomingConnection(quintptr descriptor) override { m_listener->accepted(qintptr(descriptor)); }

private:
    UnixListener *m_listener;
};

UnixListener::UnixListener(QLocalServer::SocketOptions access, AcceptHandler onAccept, QObject *parent)
    : Listener(std::move(onAccept), parent), m_server(new Server(this)), m_access(access)
{
}

namespace {
// Whether a process accepts connections on the socket file at `path`.
bool someoneListens(const QByteArray &path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.constData(), size_t(qMin<qsizetype>(path.size(), sizeof(addr.sun_path) - 1)));
    const bool listening = ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) == 0
        || errno == EAGAIN; // a full backlog is somebody listening
    ::close(fd);
    return listening;
}
} // namespace

bool UnixListener::listen(const Endpoint &address, QString *error)
{
    const QByteArray path = address.path().toLocal8Bit();
    struct stat st{};
    if (::lstat(path.constData(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            *error = QStringLiteral("cannot listen on %1: the file exists and is not a socket").arg(address.toString());
            return false;
        }
        if (someoneListens(path)) {
            *error = QStringLiteral("cannot listen on %1: another process is listening there").arg(address.toString());
            return false;
        }
        qCInfo(lcTransport).noquote() << "removing the stale socket" << address.path();
        QLocalServer::removeServer(address.path());
    }
    m_server->setSocketOptions(m_access);
    if (!m_server->listen(address.path())) {
        *error = QStringLiteral("cannot listen on %1: %2").arg(address.toString(), m_server->errorString());
        return false;
    }
    m_address = address;
    return true;
}

Endpoint UnixListener::address() const
{
    return m_address;
}

void UnixListener::close()
{
    m_server->close(); // removes the socket file
}

UnixTransport::UnixTransport(const QString &access)
    : m_access(access == QLatin1String("world") ? QLocalServer::WorldAccessOption
               : access == QLatin1String("group") ? QLocalServer::UserAccessOption | QLocalServer::GroupAccessOption
                                                  : QLocalServer::UserAccessOption)
{
}

std::unique_ptr<Listener> UnixTransport::createListener(Listener::AcceptHandler onAccept) const
{
    return std::make_unique<UnixListener>(m_access, std::move(onAccept));
}

Stream *UnixTransport::accept(qintptr descriptor, QObject *parent) const
{
    return SocketStream::adopt(descriptor, scheme(), parent);
}

Stream *UnixTransport::connect(const Endpoint &address, QObject *parent) const
{
    return SocketStream::connectTo(address, parent);
}

} // namespace Tomato

// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/unixtransport_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/transport/socketstream_p.h>

#include <QtCore/QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace Tomato {

UnixListener::UnixListener(Access access, AcceptHandler onAccept, QObject *parent)
    : Listener(std::move(onAccept), parent), m_access(access),
      m_acceptor([this](qintptr descriptor) { accepted(descriptor); }, this)
{
}

UnixListener::~UnixListener()
{
    close();
}

namespace {

constexpr size_t MaxPathBytes = sizeof(sockaddr_un::sun_path) - 1; // and the terminating NUL

mode_t modeFor(UnixListener::Access access)
{
    switch (access) {
    case UnixListener::Access::World:
        return S_IRWXU | S_IRWXG | S_IRWXO;
    case UnixListener::Access::Group:
        return S_IRWXU | S_IRWXG;
    case UnixListener::Access::User:
        break;
    }
    return S_IRWXU;
}

// `path` must fit (MaxPathBytes).
sockaddr_un unixAddress(const QByteArray &path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.constData(), size_t(path.size()));
    return addr;
}

// Whether a process accepts connections on the socket file at `path`.
bool someoneListens(const QByteArray &path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    const sockaddr_un addr = unixAddress(path);
    const bool listening = ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) == 0
        || errno == EAGAIN; // a full backlog is somebody listening
    ::close(fd);
    return listening;
}

// The private directory a new socket is made in, removed with whatever is left in it.
struct PrivateDirectory
{
    explicit PrivateDirectory(const QByteArray &target) : path(target + ".XXXXXX")
    {
        if (!::mkdtemp(path.data())) // mode 0700: nobody else can reach a socket in it
            path.clear();
        else
            fd = ::open(path.constData(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    ~PrivateDirectory()
    {
        if (path.isEmpty())
            return;
        if (fd >= 0) {
            ::unlinkat(fd, "s", 0); // after a failure; gone already after the rename
            ::close(fd);
        }
        ::rmdir(path.constData());
    }
    bool isValid() const { return fd >= 0; }
    // The socket's name to bind to: its path, or when that is too long for a socket address,
    // the same file through the directory's descriptor (Linux's /proc/self/fd).
    QByteArray socketPath() const
    {
        const QByteArray direct = path + "/s";
        return size_t(direct.size()) <= MaxPathBytes ? direct : "/proc/self/fd/" + QByteArray::number(fd) + "/s";
    }

    QByteArray path;
    int fd = -1;
};

} // namespace

bool UnixListener::listen(const Endpoint &address, QString *error)
{
    close();
    const auto fail = [&](const QString &why) {
        *error = QStringLiteral("cannot listen on %1: %2").arg(address.toString(), why);
        return false;
    };
    const QByteArray path = QFile::encodeName(address.path());
    if (size_t(path.size()) > MaxPathBytes) {
        return fail(QStringLiteral("the socket path is %1 bytes long; a Unix socket address holds at most %2")
                        .arg(path.size()).arg(MaxPathBytes));
    }
    struct stat st{};
    if (::lstat(path.constData(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return fail(QStringLiteral("the file exists and is not a socket"));
        if (someoneListens(path))
            return fail(QStringLiteral("another process is listening there"));
        qCInfo(lcTransport).noquote() << "removing the stale socket" << address.path();
        if (::unlink(path.constData()) != 0 && errno != ENOENT) {
            const int why = errno;
            return fail(QStringLiteral("cannot remove the stale socket: %1").arg(qt_error_string(why)));
        }
    }

    // Made where nobody else can connect, given its mode, listening, and only then put in place.
    PrivateDirectory dir(path);
    if (!dir.isValid()) {
        const int why = errno;
        return fail(QStringLiteral("cannot make a directory next to it: %1").arg(qt_error_string(why)));
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        const int why = errno;
        return fail(qt_error_string(why));
    }
    const sockaddr_un addr = unixAddress(dir.socketPath());
    if (::bind(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0
        || ::fchmodat(dir.fd, "s", modeFor(m_access), 0) != 0 || ::listen(fd, SOMAXCONN) != 0
        || ::renameat(dir.fd, "s", AT_FDCWD, path.constData()) != 0
        || ::lstat(path.constData(), &st) != 0) {
        const int why = errno;
        ::close(fd);
        return fail(qt_error_string(why));
    }
    m_device = st.st_dev;
    m_inode = st.st_ino;
    m_address = address;
    m_acceptor.start(fd, address.toString());
    return true;
}

Endpoint UnixListener::address() const
{
    return m_address;
}

void UnixListener::close()
{
    if (!m_acceptor.isOpen())
        return;
    m_acceptor.close();
    // Removed only if it is still ours: a file put there since belongs to someone else.
    const QByteArray path = QFile::encodeName(m_address.path());
    struct stat st{};
    if (::lstat(path.constData(), &st) == 0 && st.st_dev == m_device && st.st_ino == m_inode)
        ::unlink(path.constData());
}

UnixTransport::UnixTransport(const QString &access)
    : m_access(access == QLatin1String("world")   ? UnixListener::Access::World
               : access == QLatin1String("group") ? UnixListener::Access::Group
                                                  : UnixListener::Access::User)
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

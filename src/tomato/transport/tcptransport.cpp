// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/tcptransport_p.h>

#include <tomato/transport/socketstream_p.h>

#include <QtNetwork/QNetworkInterface>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Tomato {

TcpListener::TcpListener(const QString &scheme, AcceptHandler onAccept, Precheck precheck, QObject *parent)
    : Listener(std::move(onAccept), parent), m_scheme(scheme), m_precheck(std::move(precheck)),
      m_acceptor([this](qintptr descriptor) { accepted(descriptor); }, this)
{
}

TcpListener::~TcpListener() = default;

bool hostAddressFor(const QString &host, QHostAddress *out)
{
    if (host == QLatin1String("0.0.0.0"))
        *out = QHostAddress::AnyIPv4;
    else if (host == QLatin1String("::") || host == QLatin1String("*"))
        *out = QHostAddress::Any;
    else if (host == QLatin1String("localhost"))
        *out = QHostAddress::LocalHost;
    else
        return out->setAddress(host);
    return true;
}

namespace {

// Where to bind, in the socket API's terms.
struct BindAddress
{
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family = AF_UNSPEC;
    bool dualStack = false; // IPv6 "any" that takes IPv4 connections too
};

BindAddress bindAddressFor(const QHostAddress &host, quint16 port, int family)
{
    BindAddress a;
    a.family = family;
    if (family == AF_INET) {
        auto *in = reinterpret_cast<sockaddr_in *>(&a.storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = host.protocol() == QAbstractSocket::AnyIPProtocol ? htonl(INADDR_ANY)
                                                                                 : htonl(host.toIPv4Address());
        a.length = sizeof(sockaddr_in);
        return a;
    }
    auto *in6 = reinterpret_cast<sockaddr_in6 *>(&a.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    if (host.protocol() == QAbstractSocket::AnyIPProtocol) {
        in6->sin6_addr = in6addr_any;
        a.dualStack = true;
    } else {
        const Q_IPV6ADDR bytes = host.toIPv6Address();
        std::memcpy(&in6->sin6_addr, bytes.c, sizeof(bytes.c));
        // A link-local address names its interface: "fe80::1%eth0" or "fe80::1%2".
        bool numeric = false;
        in6->sin6_scope_id = host.scopeId().toUInt(&numeric);
        if (!numeric && !host.scopeId().isEmpty())
            in6->sin6_scope_id = uint32_t(QNetworkInterface::interfaceIndexFromName(host.scopeId()));
    }
    a.length = sizeof(sockaddr_in6);
    return a;
}

// A bound, listening, non-blocking socket for `a`, or -1 and errno.
int listeningSocket(const BindAddress &a)
{
    const int fd = ::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (a.family == AF_INET6) {
        // Explicit either way: the system default (net.ipv6.bindv6only) varies.
        const int v6only = a.dualStack ? 0 : 1;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    if (::bind(fd, reinterpret_cast<const sockaddr *>(&a.storage), a.length) != 0
        || ::listen(fd, SOMAXCONN) != 0) {
        const int error = errno;
        ::close(fd);
        errno = error;
        return -1;
    }
    return fd;
}

} // namespace

bool TcpListener::listen(const Endpoint &address, QString *error)
{
    if (m_precheck && !m_precheck(error))
        return false;
    QHostAddress host;
    if (!hostAddressFor(address.host(), &host)) {
        *error = QStringLiteral("cannot listen on %1: '%2' is not an IP address")
                     .arg(address.toString(), address.host());
        return false;
    }
    close();
    const int family = host.protocol() == QAbstractSocket::IPv4Protocol ? AF_INET : AF_INET6;
    int fd = listeningSocket(bindAddressFor(host, address.port(), family));
    if (fd < 0 && host.protocol() == QAbstractSocket::AnyIPProtocol && errno == EAFNOSUPPORT)
        fd = listeningSocket(bindAddressFor(host, address.port(), AF_INET)); // a host without IPv6
    if (fd < 0) {
        const int why = errno;
        *error = QStringLiteral("cannot listen on %1: %2").arg(address.toString(), qt_error_string(why));
        return false;
    }
    // The port a "port 0" listener got, and the address as the system reports it.
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    if (::getsockname(fd, reinterpret_cast<sockaddr *>(&bound), &length) != 0) {
        const int why = errno;
        *error = QStringLiteral("cannot listen on %1: %2").arg(address.toString(), qt_error_string(why));
        ::close(fd);
        return false;
    }
    const quint16 port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6 *>(&bound)->sin6_port)
                                                     : ntohs(reinterpret_cast<const sockaddr_in *>(&bound)->sin_port);
    m_address = Endpoint(m_scheme, QHostAddress(reinterpret_cast<const sockaddr *>(&bound)).toString(), port);
    m_acceptor.start(fd, m_address.toString());
    return true;
}

Endpoint TcpListener::address() const
{
    return m_address;
}

void TcpListener::close()
{
    m_acceptor.close();
}

std::unique_ptr<Listener> TcpTransport::createListener(Listener::AcceptHandler onAccept) const
{
    return std::make_unique<TcpListener>(scheme(), std::move(onAccept));
}

Stream *TcpTransport::accept(qintptr descriptor, QObject *parent) const
{
    return SocketStream::adopt(descriptor, scheme(), parent);
}

Stream *TcpTransport::connect(const Endpoint &address, QObject *parent) const
{
    return SocketStream::connectTo(address, parent);
}

} // namespace Tomato

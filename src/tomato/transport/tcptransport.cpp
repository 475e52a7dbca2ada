#include <tomato/transport/tcptransport_p.h>

#include <tomato/transport/socketstream_p.h>

namespace Tomato {

class TcpListener::Server final : public QTcpServer
{
public:
    explicit Server(TcpListener *listener) : QTcpServer(listener), m_listener(listener) { }

protected:
    void incomingConnection(qintptr descriptor) override { m_listener->accepted(descriptor); }

private:
    TcpListener *m_listener;
};

TcpListener::TcpListener(const QString &scheme, AcceptHandler onAccept, Precheck precheck, QObject *parent)
    : Listener(std::move(onAccept), parent), m_server(new Server(this)), m_scheme(scheme),
      m_precheck(std::move(precheck))
{
}

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
    if (!m_server->listen(host, address.port())) {
        *error = QStringLiteral("cannot listen on %1: %2").arg(address.toString(), m_server->errorString());
        return false;
    }
    return true;
}

Endpoint TcpListener::address() const
{
    return Endpoint(m_scheme, m_server->serverAddress().toString(), m_server->serverPort());
}

void TcpListener::close()
{
    m_server->close();
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

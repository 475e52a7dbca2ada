#pragma once
#include <tomato/transport/transport_p.h>

#include <QtNetwork/QTcpServer>

namespace Tomato {

// Listens on host:port with a QTcpServer and hands each accepted descriptor on; the socket
// object is made later, on the I/O thread that gets the connection. Used by tcp:// and, with a
// check of the TLS settings before listening, by tls://.
class TcpListener final : public Listener
{
    Q_OBJECT
public:
    // `precheck`, when given, runs before listening and may refuse (*error says why).
    using Precheck = std::function<bool(QString *error)>;
    TcpListener(const QString &scheme, AcceptHandler onAccept, Precheck precheck = {}, QObject *parent = nullptr);
    bool listen(const Endpoint &address, QString *error) override;
    Endpoint address() const override;
    void close() override;

private:
    class Server;
    Server *m_server;
    QString m_scheme;
    Precheck m_precheck;
};

// tcp://host:port: plain TCP.
class TcpTransport final : public Transport
{
public:
    QString scheme() const override { return QStringLiteral("tcp"); }
    std::unique_ptr<Listener> createListener(Listener::AcceptHandler onAccept) const override;
    Stream *accept(qintptr descriptor, QObject *parent) const override;
    Stream *connect(const Endpoint &address, QObject *parent) const override;
};

// The listen address of a host name or literal, as RpcServer takes it ("0.0.0.0", "::",
// "localhost", an IP literal). False when it is none of these.
bool hostAddressFor(const QString &host, QHostAddress *out);

} // namespace Tomato

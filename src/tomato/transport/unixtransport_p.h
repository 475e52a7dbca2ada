#pragma once
#include <tomato/transport/transport_p.h>

#include <QtNetwork/QLocalServer>

namespace Tomato {

// Listens on a Unix domain socket file. The file's permissions are its access control
// (unix-socket-access: the user only, its group too, or everyone); Qt creates the socket
// with those permissions before anyone can connect. A stale file left by a process that died
// is replaced; a file another process still listens on, or one that is not a socket, is
// refused. close() removes the file.
class UnixListener final : public Listener
{
    Q_OBJECT
public:
    UnixListener(QLocalServer::SocketOptions access, AcceptHandler onAccept, QObject *parent = nullptr);
    bool listen(const Endpoint &address, QString *error) override;
    Endpoint address() const override;
    void close() override;

private:
    class Server;
    Server *m_server;
    QLocalServer::SocketOptions m_access;
    Endpoint m_address;
};

// unix:///path/to.sock: same-host calls without TCP.
class UnixTransport final : public Transport
{
public:
    // "user", "group" or "world".
    explicit UnixTransport(const QString &access);
    QString scheme() const override { return QStringLiteral("unix"); }
    std::unique_ptr<Listener> createListener(Listener::AcceptHandler onAccept) const override;
    Stream *accept(qintptr descriptor, QObject *parent) const override;
    Stream *connect(const Endpoint &address, QObject *parent) const override;

private:
    QLocalServer::SocketOptions m_access;
};

} // namespace Tomato

// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/transport/acceptor_p.h>
#include <tomato/transport/transport_p.h>

#include <sys/types.h>

namespace Tomato {

// Listens on a Unix domain socket file. The file's permissions are its access control
// (unix-socket-access: the user only, its group too, or everyone), and they are in place
// before anyone can connect: the socket is made in a private directory next to the path, given
// its mode, then renamed onto the path. A stale file left by a process that died is replaced;
// a file another process still listens on, or one that is not a socket, is refused. close()
// (and the destructor) removes the file, if it is still this listener's. Lives on the thread
// that created it.
class UnixListener final : public Listener
{
    Q_OBJECT
public:
    // Who may connect, as the socket file's mode: 0700, 0770 or 0777 (what QLocalServer's
    // User-, Group- and WorldAccessOption gave; connecting needs write permission).
    enum class Access { User, Group, World };

    UnixListener(Access access, AcceptHandler onAccept, QObject *parent = nullptr);
    ~UnixListener() override;
    bool listen(const Endpoint &address, QString *error) override;
    Endpoint address() const override;
    void close() override;
    quint64 exhaustions() const override { return m_acceptor.exhaustions(); }

private:
    Access m_access;
    Acceptor m_acceptor;
    Endpoint m_address;
    // The socket file made by listen(), so that close() removes that one and no other.
    dev_t m_device = 0;
    ino_t m_inode = 0;
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
    UnixListener::Access m_access;
};

} // namespace Tomato

// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/endpoint.h>

#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QStringList>
#include <functional>
#include <memory>

namespace Tomato {

class RpcConfig;
class Stream;

// The server side of one transport at one address: accepts connections and hands their
// descriptors on. Created by Transport::createListener() on the accept thread (the server's
// first I/O thread), which owns it and alone calls it; `onAccept` runs there too.
class Listener : public QObject
{
    Q_OBJECT
public:
    using AcceptHandler = std::function<void(qintptr descriptor)>;
    explicit Listener(AcceptHandler onAccept, QObject *parent = nullptr);
    ~Listener() override;

    // False, with *error naming the address and the reason, when it cannot listen there.
    virtual bool listen(const Endpoint &address, QString *error) = 0;
    // The address as bound: the port a "port 0" listener got.
    virtual Endpoint address() const = 0;
    virtual void close() = 0;
    // How often accepting found the process out of descriptors (or memory) and refused a
    // connection, since the listener was made: for the server's metrics. Any thread.
    virtual quint64 exhaustions() const { return 0; }

protected:
    void accepted(qintptr descriptor) { m_onAccept(descriptor); }

private:
    AcceptHandler m_onAccept;
};

// One transport: how connections of one scheme (tcp, tls, unix) are listened for, accepted
// and made. Backends are immutable once built and used from any thread; each function says
// on which thread its result lives.
//
// A new transport is a subclass plus one line in Transports::standard(): the protocol
// layers above (server/, client/) only ever see Listener and Stream.
class Transport
{
public:
    virtual ~Transport();
    virtual QString scheme() const = 0;
    // Server: a listener, living on the calling (accept) thread.
    virtual std::unique_ptr<Listener> createListener(Listener::AcceptHandler onAccept) const = 0;
    // Server: wraps a descriptor the listener accepted, on the I/O thread that will own the
    // stream (a TLS handshake runs there). The stream owns the descriptor from now on.
    virtual Stream *accept(qintptr descriptor, QObject *parent) const = 0;
    // Client: starts connecting to `address`, on the I/O thread that will own the stream; it
    // reports ready() or closed() later, never from inside this call.
    virtual Stream *connect(const Endpoint &address, QObject *parent) const = 0;
};

// The transports a server or client can use, by scheme: a table owned by each RpcServer and
// RpcClient (no process-wide registry), built from its configuration and read-only after
// that, so any thread may look things up.
class Transports
{
public:
    // tcp, tls and unix, configured from `config` (TLS files, handshake timeout, Unix access).
    static std::shared_ptr<const Transports> standard(const RpcConfig &config);

    // Adds a transport; one of the same scheme is replaced.
    void add(std::shared_ptr<const Transport> transport);
    const Transport *find(QStringView scheme) const;
    QStringList schemes() const; // sorted
    // The transport for `address`, or null and *error: "no transport for 'quic://...' (known: tcp, tls, unix)".
    const Transport *forEndpoint(const Endpoint &address, QString *error) const;

private:
    QHash<QString, std::shared_ptr<const Transport>> m_transports;
};

} // namespace Tomato

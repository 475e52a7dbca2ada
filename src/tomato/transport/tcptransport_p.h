// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/transport/acceptor_p.h>
#include <tomato/transport/transport_p.h>

#include <QtNetwork/QHostAddress>

namespace Tomato {

// Listens on host:port and hands each accepted descriptor on; the socket object is made
// later, on the I/O thread that gets the connection. Used by tcp:// and, with a check of the
// TLS settings before listening, by tls://. Lives on the thread that created it.
//
// The socket is made here rather than by QTcpServer so that running out of descriptors
// pauses accepting instead of ending it (see Acceptor). Like QTcpServer it sets SO_REUSEADDR
// (a restarted server gets its port back at once), and "::" or "*" listen on IPv6 and IPv4
// at once.
class TcpListener final : public Listener
{
    Q_OBJECT
public:
    // `precheck`, when given, runs before listening and may refuse (*error says why).
    using Precheck = std::function<bool(QString *error)>;
    TcpListener(const QString &scheme, AcceptHandler onAccept, Precheck precheck = {}, QObject *parent = nullptr);
    ~TcpListener() override;
    bool listen(const Endpoint &address, QString *error) override;
    Endpoint address() const override;
    void close() override;
    quint64 exhaustions() const override { return m_acceptor.exhaustions(); }

private:
    QString m_scheme;
    Precheck m_precheck;
    Acceptor m_acceptor;
    Endpoint m_address;
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

// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/transport/stream_p.h>
#include <tomato/transport/transport_p.h>

#include <QtCore/QMutex>
#include <QtCore/QTimer>
#include <memory>
#include <optional>

class QSocketNotifier;
struct ssl_st;
struct ssl_ctx_st;

namespace Tomato {

class SocketStream;
class TlsSession;

// An OpenSSL context (SSL_CTX), shared by every connection made with it.
using TlsContext = std::shared_ptr<ssl_ctx_st>;

// The TLS settings of one node, from its configuration (tls-cert, tls-key, tls-ca,
// tls-verify-peer, tls-require-client-cert, tls-handshake-timeout-ms). The files are read
// once, on first use, into an OpenSSL context, and the result (or the error) is kept.
// Thread-safe.
class TlsSettings
{
public:
    explicit TlsSettings(const RpcConfig &config);

    // What a TLS server / client uses, or null and *error naming the key and the file.
    TlsContext server(QString *error) const;
    TlsContext client(QString *error) const;
    int handshakeTimeoutMs() const { return m_handshakeTimeoutMs; }
    // Whether a server verifies client certificates (only then are their subjects trusted).
    bool verifiesClients() const { return m_requireClientCert && m_verifyPeer; }
    // Whether a client verifies the server's certificate and host name.
    bool verifiesServers() const { return m_verifyPeer; }

private:
    struct Loaded
    {
        TlsContext context;
        QString error;
    };
    Loaded load(bool serverSide) const;

    QString m_cert, m_key, m_ca;
    bool m_verifyPeer;
    bool m_requireClientCert;
    int m_handshakeTimeoutMs;
    mutable QMutex m_mutex;
    mutable std::optional<Loaded> m_server;
    mutable std::optional<Loaded> m_client;
};

// A Stream over TLS: OpenSSL on a kernel socket of its own, with no Qt socket in between.
// Records are read from the descriptor and decrypted straight into the frame parser's buffer,
// and frames are encrypted straight from the Outbox's bytes. (QSslSocket, used before, copied
// every byte twice more each way through its own buffers: a third of plain TCP's rate.)
// Lives on its I/O thread.
//
// Server side, it first peeks at the connection's first byte: a TLS handshake record starts
// the handshake; a Tomato frame (a plain tcp:// client on a TLS port) gets an Error frame in
// plain text saying so, then the connection closes; anything else closes it. The handshake
// has tls-handshake-timeout-ms to finish, so a slow or silent peer cannot hold a connection
// (or a thread) for longer. Every failure ends this stream only; errorString() says why.
//
// Once the handshake is done the session is the stream's DirectWriter: any thread encrypts
// and writes whole records under the session's lock (reads take it too), as plain sockets
// write from any thread; what the kernel does not take waits in the Outbox.
class TlsStream final : public Stream
{
    Q_OBJECT
public:
    static TlsStream *accept(qintptr descriptor, const TlsSettings &settings, QObject *parent);
    static TlsStream *connectTo(const Endpoint &address, const TlsSettings &settings, QObject *parent);
    ~TlsStream() override;

    bool readInto(FrameParser &parser, qint64 maxBytes = NoLimit) override;
    bool hasBufferedInput() const override { return m_buffered; }
    qint64 write(const char *data, qint64 size) override;
    SharedWriter directWriter() const override;
    void close() override;
    void abort() override;
    QString peer() const override { return m_peer; }
    QString peerSubject() const override { return m_subject; }
    QString peerCommonName() const override { return m_commonName; }

private:
    TlsStream(int handshakeTimeoutMs, QObject *parent);
    void sniff();
    void refusePlainText();
    void onTcpConnected();
    void startSession();
    void continueHandshake();
    void onReadable();
    void onWritable();
    void waitToWrite(bool on);
    QString handshakeError(int result) const;
    QString sessionError(int result) const;
    void fail(const QString &why);
    void release();

    TlsContext m_context;
    std::shared_ptr<TlsSession> m_session; // the SSL object and the descriptor, shared with the Outbox
    ssl_st *m_ssl = nullptr;               // m_session's
    int m_fd = -1;                         // owned by m_session once there is one
    SocketStream *m_tcp = nullptr; // client side, while the TCP connection is made
    QSocketNotifier *m_sniffer = nullptr;
    QSocketNotifier *m_readable = nullptr;
    QSocketNotifier *m_writable = nullptr; // during the handshake
    QTimer m_handshakeTimer;
    QString m_host;               // client side: the name (or address) the certificate must show
    QString m_peer;
    QString m_subject;
    QString m_commonName;
    bool m_serverSide = false;
    bool m_trustSubject = false;  // the peer's certificate was verified
    bool m_received = false;      // any bytes came through the session
    bool m_readCalled = false;    // readInto() ran during the current readyRead()
    bool m_readWantsWrite = false;
    bool m_buffered = false;      // decrypted or whole records wait inside OpenSSL
};

// tls://host:port: TLS over TCP, with mutual TLS when the server requires client certificates.
class TlsTransport final : public Transport
{
public:
    explicit TlsTransport(const RpcConfig &config);
    QString scheme() const override { return QStringLiteral("tls"); }
    std::unique_ptr<Listener> createListener(Listener::AcceptHandler onAccept) const override;
    Stream *accept(qintptr descriptor, QObject *parent) const override;
    Stream *connect(const Endpoint &address, QObject *parent) const override;

private:
    TlsSettings m_settings;
};

} // namespace Tomato

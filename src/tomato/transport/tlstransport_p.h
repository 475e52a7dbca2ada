// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/transport/stream_p.h>
#include <tomato/transport/transport_p.h>

#include <QtCore/QMutex>
#include <QtCore/QTimer>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslError>
#include <optional>

class QSocketNotifier;
class QSslSocket;

namespace Tomato {

// The TLS settings of one node, from its configuration (tls-cert, tls-key, tls-ca,
// tls-verify-peer, tls-require-client-cert, tls-handshake-timeout-ms). The files are read
// once, on first use, and the result (or the error) is kept. Thread-safe.
class TlsSettings
{
public:
    explicit TlsSettings(const RpcConfig &config);

    // What a TLS server / client uses, or nothing and *error naming the key and the file.
    std::optional<QSslConfiguration> server(QString *error) const;
    std::optional<QSslConfiguration> client(QString *error) const;
    int handshakeTimeoutMs() const { return m_handshakeTimeoutMs; }
    // Whether a server verifies client certificates (only then are their subjects trusted).
    bool verifiesClients() const { return m_requireClientCert && m_verifyPeer; }

private:
    struct Loaded
    {
        std::optional<QSslConfiguration> config;
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

// A Stream over TLS (QSslSocket, OpenSSL backend). Lives on its I/O thread.
//
// Server side, it first peeks at the connection's first byte: a TLS handshake record starts
// the handshake; a Tomato frame (a plain tcp:// client on a TLS port) gets an Error frame in
// plain text saying so, then the connection closes; anything else closes it. The handshake
// has tls-handshake-timeout-ms to finish, so a slow or silent peer cannot hold a connection
// (or a thread) for longer. Every failure ends this stream only; errorString() says why.
//
// Writes always go through the I/O thread (no direct descriptor); at most WriteBufferLimit
// bytes wait inside QSslSocket, and reads stop at ReadBufferLimit unread bytes, so flow
// control above works as it does for plain sockets.
class TlsStream final : public Stream
{
    Q_OBJECT
public:
    static constexpr qint64 WriteBufferLimit = 1 << 20;
    static constexpr qint64 ReadBufferLimit = 256 << 10;

    static TlsStream *accept(qintptr descriptor, const TlsSettings &settings, QObject *parent);
    static TlsStream *connectTo(const Endpoint &address, const TlsSettings &settings, QObject *parent);
    ~TlsStream() override;

    bool readInto(FrameParser &parser, qint64 maxBytes = NoLimit) override;
    bool hasBufferedInput() const override;
    qint64 write(const char *data, qint64 size) override;
    void close() override;
    void abort() override;
    QString peer() const override { return m_peer; }
    QString peerSubject() const override { return m_subject; }
    QString peerCommonName() const override { return m_commonName; }

private:
    TlsStream(int handshakeTimeoutMs, QObject *parent);
    void sniff();
    void refusePlainText();
    void startServerHandshake();
    void watchSocket();
    void onEncrypted();
    void onSocketError();
    void endAfterReading();
    QString endReason() const;
    void fail(const QString &why);

    QSslConfiguration m_config;
    bool m_trustSubject = false; // the peer's certificate was verified
    QSslSocket *m_socket = nullptr;
    QSocketNotifier *m_sniffer = nullptr;
    qintptr m_descriptor = -1;   // server side, until QSslSocket takes it
    QTimer m_handshakeTimer;
    QList<QSslError> m_sslErrors;
    QString m_peer;
    QString m_subject;
    QString m_commonName;
    bool m_serverSide = false;
    bool m_received = false; // any bytes came through the session
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

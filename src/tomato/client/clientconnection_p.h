// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/client/clientsession_p.h>
#include <tomato/transport/outbox_p.h>
#include <tomato/wire/extension_p.h>
#include <tomato/wire/frameparser_p.h>

#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <chrono>
#include <memory>
#include <optional>

namespace Tomato {

class Stream;
class Transports;

// The I/O half of a client connection to one address, over a Stream of the address's
// transport. Lives on one client I/O thread; only that thread touches the stream. Connects on
// the first flush, reconnects on the first flush after a disconnect; completes calls from
// their responses (the client's response pipeline), fails the calls in flight when the
// connection breaks, times calls out, turns cancelled futures into Cancel frames, and sends
// keep-alives when idle. Deleted on its thread by the RpcClient's shutdown; deletion fails
// what is in flight with ClientClosed.
class ClientConnection : public QObject
{
    Q_OBJECT
public:
    ClientConnection(std::shared_ptr<ClientSession> session, std::shared_ptr<const Transports> transports,
                     QObject *parent);
    ~ClientConnection() override;
    const std::shared_ptr<ClientSession> &session() const { return m_session; }

private:
    void flush();
    void connectStream();
    void onReady();
    void onReadyRead();
    void onStreamGone();
    void dropStream();
    void handleFrame(Frame &&frame);
    void complete(OutgoingCall &call, Frame &&frame, const Extension &ext);
    void failAll(RpcError::Code code, const QString &message, bool detach = false);
    void onTimer();
    void rearm();
    void sendCancel(quint64 id);
    void onKeepAlive();
    void onConnectTimeout();
    bool isConnected() const;
    void syncSubscriptions();
    void handleSignalFrame(const Frame &frame, const Extension &ext, bool extOk);

    // Reconnects while subscriptions wait for a connection (docs/SIGNALS.md), backing off
    // from 100 ms to 5 s between attempts.
    QTimer m_resubscribeTimer;
    int m_resubscribeBackoffMs = 100;

    std::shared_ptr<ClientSession> m_session;
    std::shared_ptr<const Transports> m_transports;
    Stream *m_stream = nullptr; // null: not connected, not connecting
    FrameParser m_parser;
    OutboxWriter m_writer;
    QTimer m_timer;
    QTimer m_keepAlive;
    QTimer m_connectTimer;
    int m_keepAlivesUnanswered = 0; // heartbeats sent since the peer last said anything
    std::chrono::steady_clock::time_point m_lastRead;
    std::chrono::steady_clock::time_point m_lastBusy;
    // Why the stream ends, when the peer said so (its Error frame): onStreamGone() fails the
    // calls still on it with this instead of ConnectionLost.
    std::optional<RpcError> m_goneWith;
};

} // namespace Tomato

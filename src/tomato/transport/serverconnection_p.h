#pragma once
#include <tomato/wire/frameparser.h>

#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QTcpSocket>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace Tomato {

class Outbox;
class ServerCore;
struct ServerCall;

// One accepted client connection. Lives on one I/O thread from creation to deletion; only
// that thread touches the socket and the parser. Requests are dispatched to the business
// pool; answers come back through the shared Outbox. It deletes itself when the peer goes
// away, when the stream is corrupt (after an Error frame), or when idle for longer than
// server-idle-check-ms. Parent: the I/O thread's context object, so a server stop can
// delete every connection of a thread at once.
class ServerConnection : public QObject
{
    Q_OBJECT
public:
    ServerConnection(qintptr descriptor, std::shared_ptr<ServerCore> core, QObject *parent);
    ~ServerConnection() override;

    // Closes the connection when nothing arrived for `limit`. The server calls it for every
    // connection of an I/O thread from one timer per thread (a timer per connection costs
    // memory on servers with many idle connections).
    void closeIfIdle(std::chrono::steady_clock::time_point now, std::chrono::milliseconds limit);

private:
    void onReadyRead();
    void handleFrame(Frame &&frame);
    void handleRequest(Frame &&frame);
    void flush();
    void finishWhenAnswered();
    bool processFrames(); // false when paused by flow control or closing
    bool overloaded() const;
    qint64 outboxLimit() const;
    void protocolError(RpcError::Code code, const QString &message, quint64 messageId);

    std::shared_ptr<ServerCore> m_core;
    QTcpSocket *m_socket;
    QSocketNotifier *m_writable = nullptr; // only while the kernel buffer is full
    FrameParser m_parser;
    std::shared_ptr<Outbox> m_outbox;
    std::shared_ptr<std::atomic<int>> m_owed = std::make_shared<std::atomic<int>>(0);
    std::shared_ptr<std::atomic<int>> m_load = std::make_shared<std::atomic<int>>(0);
    // Calls not answered yet, for Cancel. A vector, not a hash: a connection usually has a
    // few calls in flight, and an idle one should cost nothing. Purged lazily.
    std::vector<std::pair<quint64, std::weak_ptr<ServerCall>>> m_calls;
    size_t m_purgeAt = 16;
    std::chrono::steady_clock::time_point m_lastActivity;
    bool m_closing = false;
    bool m_readPaused = false;  // answers pile up unread: requests wait in the kernel
    bool m_peerClosed = false;  // the peer finished sending: answer what it sent, then go
    std::chrono::steady_clock::time_point m_peerClosedAt;
};

} // namespace Tomato

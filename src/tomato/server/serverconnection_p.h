#pragma once
#include <tomato/transport/outbox_p.h>
#include <tomato/wire/frameparser_p.h>

#include <QtCore/QObject>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace Tomato {

class ServerCore;
class Stream;
struct ConnectionState;
struct ServerCall;

// One accepted client connection, over a Stream of any transport. Lives on one I/O thread
// from creation to deletion; only that thread touches the stream and the parser. Requests
// go through the core's pipeline (admit, then the business pool); answers come back through
// the shared Outbox. It deletes itself when the peer goes away, when the stream is corrupt
// (after an Error frame), when the stream never comes up (a failed TLS handshake), or when
// idle for longer than server-idle-check-ms. Parent: the I/O thread's context object, so a
// server stop can delete every connection of a thread at once.
class ServerConnection : public QObject
{
    Q_OBJECT
public:
    // Takes the stream over (re-parents it).
    ServerConnection(Stream *stream, std::shared_ptr<ServerCore> core, QObject *parent);
    ~ServerConnection() override;

    // Closes the connection when nothing arrived for `limit`. The server calls it for every
    // connection of an I/O thread from one timer per thread (a timer per connection costs
    // memory on servers with many idle connections).
    void closeIfIdle(std::chrono::steady_clock::time_point now, std::chrono::milliseconds limit);
    // Server stop, after the drain: reads nothing more, writes the answers still queued (a TLS
    // stream buffers them in the socket until the I/O thread's event loop writes them), then
    // closes the stream and deletes itself. The server deletes whatever is left at its deadline.
    void closeAfterWriting();

private:
    void onReady();
    void onStreamClosed();
    void onReadyRead();
    void handleFrame(Frame &&frame);
    void cancel(quint64 messageId);
    void track(const std::shared_ptr<ServerCall> &call);
    void flush();
    void peerFinished();
    void finishWhenAnswered();
    bool processFrames(); // false when paused by flow control or closing
    bool overloaded() const;
    void protocolError(RpcError::Code code, const QString &message);
    bool handOverIfHttp();

    std::shared_ptr<ServerCore> m_core;
    Stream *m_stream;
    FrameParser m_parser;
    std::shared_ptr<ConnectionState> m_state;
    OutboxWriter m_writer;
    // Calls not answered yet, for Cancel. A vector, not a hash: a connection usually has a
    // few calls in flight, and an idle one should cost nothing. Purged lazily.
    std::vector<std::pair<quint64, std::weak_ptr<ServerCall>>> m_calls;
    size_t m_purgeAt = 16;
    std::chrono::steady_clock::time_point m_lastActivity;
    quint64 m_received = 0;     // bytes counted into the core's bytesReceived
    bool m_sniffing = true;     // no byte seen yet: it may still turn out to be HTTP
    bool m_httpRefused = false; // it started like HTTP, but status-enabled is false
    bool m_closing = false;
    bool m_readPaused = false;  // answers pile up unread: requests wait in the kernel
    bool m_peerClosed = false;  // the peer finished sending: answer what it sent, then go
    bool m_stopping = false;    // the server stops: write what is queued, then go
    std::chrono::steady_clock::time_point m_peerClosedAt;
};

} // namespace Tomato

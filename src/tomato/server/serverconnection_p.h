// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/rpcerror.h>
#include <tomato/transport/bufferbudget_p.h>
#include <tomato/transport/connectionlimits_p.h>
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
// (after an Error frame), when the stream never comes up (a failed TLS handshake), when idle
// for longer than server-idle-check-ms, or at one of the server's bounds (below). Parent: the
// I/O thread's context object, so a server stop can delete every connection of a thread at once.
//
// Bounds (docs/RELIABILITY.md): what the parser holds is reserved in the server's
// BufferBudget before it is read: a frame's announced size once its header is in, else a
// read's worth (ReadChunk). Without room the connection stops reading until the budget says
// room freed up, and may be evicted (closed with ResourceExhausted) if it holds the most
// while others starve. A frame must arrive whole within frame-read-timeout-ms of its first
// byte, and the connection's first byte within first-byte-timeout-ms.
class ServerConnection : public QObject, public BudgetOwner
{
    Q_OBJECT
public:
    // The most one read takes when no frame is under way (or on top of the one under way).
    static constexpr qint64 ReadChunk = BufferBudget::SmallFrame / 2;
    // Requests larger than this stay counted in the budget until their call is done.
    static constexpr qint64 CountedRequestBytes = 4 << 10;
    // Requests of PublishOptions::Dispatch::IoThread services up to this size run on the I/O
    // thread; larger ones on the business pool.
    static constexpr qint64 InlineRequestBytes = 64 << 10;
    // Remote-signal subscriptions one connection may hold (docs/PROTOCOL.md section 7b).
    static constexpr size_t MaxSubscriptions = 1024;

    // Takes the stream over (re-parents it). `slot`: its place in the server's connection
    // limits, held as long as the connection (or the HTTP connection it becomes) lives.
    ServerConnection(Stream *stream, std::shared_ptr<ServerCore> core, ConnectionSlot slot, QObject *parent);
    ~ServerConnection() override;

    struct Deadlines
    {
        std::chrono::milliseconds idle{0}, firstByte{0}, frame{0}; // 0: none
    };
    // Closes the connection when it missed a deadline: nothing arrived for `idle`, no first
    // byte within `firstByte`, a frame under way for longer than `frame`. The server calls it
    // for every connection of an I/O thread from one timer per thread (a timer per connection
    // costs memory on servers with many idle connections).
    void checkDeadlines(std::chrono::steady_clock::time_point now, const Deadlines &deadlines);
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
    bool parseFrames();
    bool overloaded() const;
    void protocolError(RpcError::Code code, const QString &message);
    void closeWithError(RpcError::Code code, const QString &message);
    void flushLast();
    bool handOverIfHttp();
    qint64 roomToRead();
    void settleBudget(std::chrono::steady_clock::time_point now);
    void onBudgetRoom() override;
    void endWait();
    void onBudgetEvict(const QString &why) override;

    std::shared_ptr<ServerCore> m_core;
    ConnectionSlot m_slot;
    BudgetAccount m_account; // before the outbox closes, after it is gone
    Stream *m_stream;
    FrameParser m_parser;
    std::shared_ptr<ConnectionState> m_state;
    OutboxWriter m_writer;
    // Calls not answered yet, for Cancel. A vector, not a hash: a connection usually has a
    // few calls in flight, and an idle one should cost nothing. Purged lazily.
    std::vector<std::pair<quint64, std::weak_ptr<ServerCall>>> m_calls;
    size_t m_purgeAt = 16;
    // Calls of PublishOptions::Dispatch::IoThread services parsed in this read, not yet run.
    std::vector<std::shared_ptr<ServerCall>> m_inline, m_running;
    bool m_runningInline = false;
    // Its remote-signal subscriptions, by id: dropped from their hubs when it goes.
    std::vector<std::pair<quint64, std::weak_ptr<class SignalHub>>> m_subscriptions;
    std::chrono::steady_clock::time_point m_lastActivity; // the last read (before the first: the accept)
    std::chrono::steady_clock::time_point m_frameStartedAt{}; // epoch: no frame under way
    bool m_frameDone = false;      // a frame was parsed since the last settleBudget(): one under way is new
    bool m_waitingForRoom = false; // queued in the budget: until onBudgetRoom()
    std::chrono::steady_clock::time_point m_waitStartedAt;
    quint64 m_received = 0;     // bytes counted into the core's bytesReceived
    bool m_sniffing = true;     // no byte seen yet: it may still turn out to be HTTP
    bool m_httpRefused = false; // it started like HTTP, but status-enabled is false
    bool m_closing = false;
    bool m_readPaused = false;  // answers pile up unread: requests wait in the kernel
    bool m_peerClosed = false;  // the peer finished sending: answer what it sent, then go
    bool m_stopping = false;    // the server stops: write what is queued, then go
    bool m_saidGoodbye = false; // the stop's Error frame 204 is queued (flush())
    std::chrono::steady_clock::time_point m_peerClosedAt;
};

} // namespace Tomato

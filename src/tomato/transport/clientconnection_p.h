#pragma once
#include <tomato/client/stub.h>
#include <tomato/wire/frameparser.h>

#include <QtCore/QHash>
#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <QtCore/QSocketNotifier>
#include <QtCore/QTimer>
#include <QtNetwork/QTcpSocket>
#include <chrono>
#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <unordered_map>
#include <vector>
#include <memory>

namespace Tomato {

class Outbox;

struct ClientConnectionSettings
{
    QString host;
    quint16 port = 0;
    qint64 maxFrameBytes = 16 << 20;
    int keepAliveMs = 0;
    QByteArray compression;      // "" for none
    int compressionThreshold = 0;
};

// The thread-safe half of a client connection: calls in flight by message id, their
// deadlines, and the outbox. Callers on any thread send() through it; the I/O half
// (ClientConnection) completes calls. Shared by the connection and by every channel that
// uses it; after the connection is gone (client destroyed) send() fails with ClientClosed.
class ClientSession
{
public:
    explicit ClientSession(ClientConnectionSettings settings) : settings(std::move(settings)) {}

    void send(std::unique_ptr<OutgoingCall> call);
    // Removes and returns the call with this id; null when unknown (already timed out).
    std::unique_ptr<OutgoingCall> take(quint64 id);
    // Removes every call, for failing them all; optionally detaches the outbox from its
    // socket in the same step.
    std::vector<std::unique_ptr<OutgoingCall>> takeAll(bool detachSocket = false);
    // Removes calls whose deadline passed or whose future was cancelled.
    void takeExpired(std::chrono::steady_clock::time_point now,
                     std::vector<std::pair<quint64, std::unique_ptr<OutgoingCall>>> *expired,
                     std::vector<std::pair<quint64, std::unique_ptr<OutgoingCall>>> *cancelled);
    std::chrono::steady_clock::time_point nextDeadline() const;
    qsizetype inFlight() const;
    quint64 nextMessageId();
    void close(); // fails calls sent later with ClientClosed

    const ClientConnectionSettings settings;
    std::shared_ptr<Outbox> outbox; // set once by the connection, before any send
    std::function<void()> requestRearm; // set once by the connection: re-arm its timer
    // When the connection's timer fires next (steady clock ticks); max when it is off.
    std::atomic<qint64> timerDue{std::numeric_limits<qint64>::max()};

private:
    mutable QMutex m_mutex;
    std::unordered_map<quint64, std::unique_ptr<OutgoingCall>> m_calls;
    std::multimap<std::chrono::steady_clock::time_point, quint64> m_deadlines;
    std::atomic<quint64> m_nextId{1};
    bool m_closed = false;
};

// The I/O half of a client connection to one host:port. Lives on one client I/O thread;
// only that thread touches the socket. Connects on the first flush, reconnects on the first
// flush after a disconnect; fails the calls in flight when the connection breaks, times
// calls out, turns cancelled futures into Cancel frames, and sends keep-alives when idle.
// Deleted on its thread by the RpcClient's shutdown; deletion fails what is in flight with
// ClientClosed.
class ClientConnection : public QObject
{
    Q_OBJECT
public:
    ClientConnection(std::shared_ptr<ClientSession> session, QObject *parent);
    ~ClientConnection() override;

private:
    void flush();
    void onConnected();
    void onReadyRead();
    void onSocketGone();
    void handleResponse(Frame &&frame);
    void failAll(RpcError::Code code, const QString &message, bool detach = false);
    void onTimer();
    void rearm();
    void sendCancel(quint64 id);
    void onKeepAlive();

    std::shared_ptr<ClientSession> m_session;
    QTcpSocket *m_socket;
    FrameParser m_parser;
    QTimer m_timer;
    QTimer m_keepAlive;
    std::chrono::steady_clock::time_point m_lastRead;
    QSocketNotifier *m_writable = nullptr; // only while the kernel buffer is full
    std::chrono::steady_clock::time_point m_lastBusy;
    bool m_active = false;      // a connection attempt or connection is under way
    bool m_wasConnected = false; // the current attempt reached Connected
};

} // namespace Tomato

// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/client/outgoingcall_p.h>
#include <tomato/client/remotesignal_p.h>
#include <tomato/compression/codec_p.h>
#include <tomato/core/endpoint.h>

#include <QtCore/QMutex>
#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

namespace Tomato {

class Outbox;

// What a client connection needs to know, fixed when it is made.
struct ClientConnectionSettings
{
    Endpoint endpoint;
    qint64 maxFrameBytes = 16 << 20;
    int keepAliveMs = 0;
    int connectTimeoutMs = 0; // 0: none
    Compression::Kind compression = Compression::Kind::None;
    int compressionThreshold = 0;
};

// The thread-safe half of a client connection: calls in flight by message id, their
// deadlines, and the outbox. Callers on any thread send() through it; the I/O half
// (ClientConnection) completes calls. Shared by the connection and by every channel that
// uses it; after the connection is gone (client destroyed) send() fails with ClientClosed.
class ClientSession
{
public:
    explicit ClientSession(ClientConnectionSettings settings)
        : settings(std::move(settings)), where(this->settings.endpoint.toString())
    {
    }

    // Compresses, numbers and frames the call, enters it in the table and posts it.
    void send(std::unique_ptr<OutgoingCall> call);
    // Removes and returns the call with this id; null when unknown (already timed out).
    std::unique_ptr<OutgoingCall> take(quint64 id);
    // Removes every call, for failing them all; optionally detaches the outbox from its
    // stream in the same step.
    std::vector<std::unique_ptr<OutgoingCall>> takeAll(bool detachStream = false);
    std::vector<quint64> pendingIds() const; // the calls in flight, by message id
    using Taken = std::vector<std::pair<quint64, std::unique_ptr<OutgoingCall>>>;
    // Removes calls whose deadline passed or whose future was cancelled.
    void takeExpired(std::chrono::steady_clock::time_point now, Taken *expired, Taken *cancelled);
    std::chrono::steady_clock::time_point nextDeadline() const;
    qsizetype inFlight() const;
    quint64 nextMessageId();
    void close(); // fails calls sent later with ClientClosed

    // Remote signals (docs/SIGNALS.md). Any thread: adds a subscription and returns its id
    // (its message id on the wire); the connection sends it when it is up, and again on every
    // new connection, until unsubscribe(). On a closed session nothing happens.
    quint64 subscribe(SignalTarget target);
    void unsubscribe(quint64 id);
    // The connection's side, on its I/O thread.
    struct SubscriptionState
    {
        SignalTarget target;
        bool sent = false;      // on the current connection
        bool confirmed = false; // by the current connection's server
        bool everConfirmed = false;
    };
    // Subscriptions not sent on the current connection (marked sent), and ids to unsubscribe
    // there.
    void takeToSync(std::vector<std::pair<quint64, SignalTarget>> *subscribe, std::vector<quint64> *unsubscribe);
    void connectionLost(); // every subscription is to be sent again
    bool hasSubscriptions() const;
    // The sink of a subscription, null when unknown. `confirm`: the server's answer was a
    // success (*again: it is a re-subscription); `end`: forget it.
    std::shared_ptr<SignalSink> sinkOf(quint64 id, bool confirm = false, bool end = false, bool *again = nullptr);
    std::function<void()> requestSync; // set once by the connection: have it send what changed

    const ClientConnectionSettings settings;
    const QString where; // settings.endpoint as text, made once: every completed call names it
    std::shared_ptr<Outbox> outbox; // set once by the connection, before any send
    std::function<void()> requestRearm; // set once by the connection: re-arm its timer
    // When the connection's timer fires next (steady clock ticks); max when it is off.
    std::atomic<qint64> timerDue{std::numeric_limits<qint64>::max()};
    std::atomic<bool> connected{false}; // set by the connection: its stream is up

private:
    void forgetDeadline(quint64 id, std::chrono::steady_clock::time_point deadline);

    mutable QMutex m_mutex;
    std::unordered_map<quint64, std::unique_ptr<OutgoingCall>> m_calls;
    std::multimap<std::chrono::steady_clock::time_point, quint64> m_deadlines;
    std::atomic<quint64> m_nextId{1};
    bool m_closed = false;
    std::map<quint64, SubscriptionState> m_subscriptions;
    std::vector<quint64> m_unsubscribed; // sent, not yet withdrawn on the wire
};

} // namespace Tomato

// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/clientsession_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/transport/outbox_p.h>

namespace Tomato {

using Clock = std::chrono::steady_clock;

void finishCall(OutgoingCall &call, const QString &where, const RpcError *error)
{
    if (call.onFinish && std::exchange(call.onFinish, nullptr)(call, error))
        return; // retried elsewhere; the next attempt finishes it
    if (lcClient().isDebugEnabled()) {
        // sentAt is read only while debug logging is on (a call sent before has none).
        const bool timed = call.sentAt != Clock::time_point();
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - call.sentAt).count();
        // One multi-argument arg(): a message with "%1" in it stays as it is.
        qCDebug(lcClient).noquote() << QStringLiteral("call %1 %2 to %3: %4 in %5 ms")
                                           .arg(QString::number(call.messageId), call.label.isEmpty() ? QStringLiteral("?") : QString::fromLatin1(call.label), where,
                                                error ? error->toString() : QStringLiteral("ok"),
                                                timed ? QString::number(ms, 'f', 3) : QStringLiteral("?"));
    }
    if (error)
        call.pending->fail(*error);
    else
        call.pending->succeed();
}

quint64 ClientSession::nextMessageId()
{
    return m_nextId.fetch_add(1, std::memory_order_relaxed);
}

void ClientSession::send(std::unique_ptr<OutgoingCall> call)
{
    call->frame.compressBody(settings.compression, settings.compressionThreshold);
    if (call->frame.size() > settings.maxFrameBytes) {
        const RpcError error(RpcError::RequestTooLarge, QStringLiteral("request of %1 bytes exceeds max-frame-bytes %2")
                                                            .arg(call->frame.size()).arg(settings.maxFrameBytes));
        return finishCall(*call, where, &error);
    }
    const quint64 id = nextMessageId();
    call->messageId = id;
    QByteArray frame = call->frame.finish(Frame::Request, quint8(call->serialization), id);
    QByteArray tail = call->frame.takeTail(); // a large last argument, not copied into the frame
    {
        QMutexLocker lock(&m_mutex);
        if (!m_closed) {
            const auto deadline = call->deadline;
            m_deadlines.emplace(deadline, id);
            m_calls.emplace(id, std::move(call));
            if (deadline.time_since_epoch().count() < timerDue.load(std::memory_order_relaxed)) {
                // The I/O thread's timer would notice this deadline too late (or is off).
                timerDue.store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
                requestRearm();
            }
            // Posting under the lock keeps the order of ids and bytes, and a concurrent
            // takeAll() either sees the call or the outbox refuses it.
            // A lone call goes out at once from this thread; with others in flight it is
            // batched with them by the I/O thread.
            const auto when = m_calls.size() == 1 ? Outbox::When::WriteNow : Outbox::When::Batch;
            m_calls[id]->posted = true; // before the post: the answer may come at once
            if (outbox->post(std::move(frame), std::move(tail), when))
                return;
            call = std::move(m_calls[id]);
            call->posted = false;
            m_calls.erase(id);
            forgetDeadline(id, deadline);
        }
    }
    const RpcError closed(RpcError::ClientClosed, QStringLiteral("the RpcClient was shut down"));
    finishCall(*call, where, &closed);
}

void ClientSession::forgetDeadline(quint64 id, Clock::time_point deadline)
{
    auto range = m_deadlines.equal_range(deadline);
    for (auto d = range.first; d != range.second; ++d) {
        if (d->second == id) {
            m_deadlines.erase(d);
            return;
        }
    }
}

std::unique_ptr<OutgoingCall> ClientSession::take(quint64 id)
{
    QMutexLocker lock(&m_mutex);
    auto it = m_calls.find(id);
    if (it == m_calls.end())
        return nullptr;
    std::unique_ptr<OutgoingCall> call = std::move(it->second);
    m_calls.erase(it);
    forgetDeadline(id, call->deadline);
    return call;
}

std::vector<quint64> ClientSession::pendingIds() const
{
    QMutexLocker lock(&m_mutex);
    std::vector<quint64> ids;
    ids.reserve(m_calls.size());
    for (const auto &entry : m_calls)
        ids.push_back(entry.first);
    return ids;
}

std::vector<std::unique_ptr<OutgoingCall>> ClientSession::takeAll(bool detachStream)
{
    QMutexLocker lock(&m_mutex);
    if (detachStream)
        outbox->detach(); // lock order as in send(): session, then outbox
    std::vector<std::unique_ptr<OutgoingCall>> all;
    all.reserve(m_calls.size());
    for (auto &entry : m_calls)
        all.push_back(std::move(entry.second));
    m_calls.clear();
    m_deadlines.clear();
    return all;
}

void ClientSession::takeExpired(Clock::time_point now, Taken *expired, Taken *cancelled)
{
    QMutexLocker lock(&m_mutex);
    while (!m_deadlines.empty() && m_deadlines.begin()->first <= now) {
        const quint64 id = m_deadlines.begin()->second;
        m_deadlines.erase(m_deadlines.begin());
        auto it = m_calls.find(id);
        if (it != m_calls.end()) {
            expired->emplace_back(id, std::move(it->second));
            m_calls.erase(it);
        }
    }
    for (auto it = m_calls.begin(); it != m_calls.end();) {
        if (it->second->pending->isCanceled()) {
            const quint64 id = it->first;
            std::unique_ptr<OutgoingCall> call = std::move(it->second);
            it = m_calls.erase(it);
            forgetDeadline(id, call->deadline);
            cancelled->emplace_back(id, std::move(call));
        } else {
            ++it;
        }
    }
}

Clock::time_point ClientSession::nextDeadline() const
{
    QMutexLocker lock(&m_mutex);
    return m_deadlines.empty() ? Clock::time_point::max() : m_deadlines.begin()->first;
}

qsizetype ClientSession::inFlight() const
{
    QMutexLocker lock(&m_mutex);
    return qsizetype(m_calls.size());
}

void ClientSession::close()
{
    QMutexLocker lock(&m_mutex);
    m_closed = true;
}

// ---- remote signals ----------------------------------------------------------------------

SignalSink::~SignalSink() = default;
SignalSubscription::~SignalSubscription() = default;

quint64 ClientSession::subscribe(SignalTarget target)
{
    const quint64 id = nextMessageId();
    QMutexLocker lock(&m_mutex);
    if (m_closed)
        return id;
    m_subscriptions.emplace(id, SubscriptionState{std::move(target)});
    requestSync();
    return id;
}

void ClientSession::unsubscribe(quint64 id)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_subscriptions.find(id);
    if (it == m_subscriptions.end())
        return;
    const bool sent = it->second.sent;
    m_subscriptions.erase(it);
    if (sent && !m_closed) {
        m_unsubscribed.push_back(id);
        requestSync();
    }
}

void ClientSession::takeToSync(std::vector<std::pair<quint64, SignalTarget>> *subscribe, std::vector<quint64> *unsubscribe)
{
    QMutexLocker lock(&m_mutex);
    for (auto &[id, state] : m_subscriptions) {
        if (!state.sent) {
            state.sent = true;
            subscribe->emplace_back(id, state.target);
        }
    }
    unsubscribe->swap(m_unsubscribed);
}

void ClientSession::connectionLost()
{
    QMutexLocker lock(&m_mutex);
    for (auto &entry : m_subscriptions) {
        entry.second.sent = false;
        entry.second.confirmed = false;
    }
    m_unsubscribed.clear(); // the server forgot them with the connection
}

bool ClientSession::hasSubscriptions() const
{
    QMutexLocker lock(&m_mutex);
    return !m_subscriptions.empty();
}

std::shared_ptr<SignalSink> ClientSession::sinkOf(quint64 id, bool confirm, bool end, bool *again)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_subscriptions.find(id);
    if (it == m_subscriptions.end())
        return nullptr;
    std::shared_ptr<SignalSink> sink = it->second.target.sink;
    if (confirm) {
        if (again)
            *again = it->second.everConfirmed;
        it->second.confirmed = it->second.everConfirmed = true;
    }
    if (end)
        m_subscriptions.erase(it);
    return sink;
}

} // namespace Tomato

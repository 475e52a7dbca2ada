// SPDX-License-Identifier: Apache-2.0
#include <tomato/server/signalhub_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/serialization/marshal_p.h>
#include <tomato/server/servercore_p.h>
#include <tomato/transport/outbox_p.h>
#include <tomato/wire/message_p.h>

#include <QtCore/QThread>
#include <QtCore/QVarLengthArray>

namespace Tomato {

namespace {

// Receives the implementation's signals the way QSignalSpy does: connected by method index to
// slots past QObject's own, which exist only in this qt_metacall. Lives on the
// implementation's thread as its child; emissions reach it directly on the emitting thread.
class SignalRelay final : public QObject
{
public:
    explicit SignalRelay(std::weak_ptr<SignalHub> hub) : m_hub(std::move(hub)) {}

    int qt_metacall(QMetaObject::Call call, int id, void **argv) override
    {
        id = QObject::qt_metacall(call, id, argv);
        if (id < 0 || call != QMetaObject::InvokeMetaMethod)
            return id;
        if (auto hub = m_hub.lock())
            hub->emitted(id, argv);
        return -1;
    }

private:
    std::weak_ptr<SignalHub> m_hub;
};

} // namespace

SignalHub::SignalHub(QByteArray serviceName, QList<SignalInfo> signalList, qint64 maxQueueBytes,
                     std::shared_ptr<SignalCounters> counters)
    : m_service(std::move(serviceName)),
      m_signals(std::move(signalList)),
      m_maxQueueBytes(maxQueueBytes),
      m_counters(std::move(counters)),
      m_bySignal(size_t(m_signals.size()))
{
}

SignalHub::~SignalHub()
{
    m_counters->subscriptions.fetch_sub(subscriberCount());
}

void SignalHub::attach(QObject *implementation, const QMetaObject &interface)
{
    Q_UNUSED(interface);
    auto *relay = new SignalRelay(weak_from_this());
    relay->moveToThread(implementation->thread());
    relay->setParent(implementation); // goes with it if it is destroyed first
    const int base = QObject::staticMetaObject.methodCount();
    for (const SignalInfo &s : m_signals) {
        if (!QMetaObject::connect(implementation, s.index, relay, base + s.relative, Qt::DirectConnection))
            qCWarning(lcServer).noquote() << "cannot relay" << m_service + "::" + s.signature;
    }
    m_relay = relay;
}

void SignalHub::detach(RpcError::Code code, const QString &why)
{
    // The relay is disconnected, not deleted: another thread may be inside its qt_metacall
    // right now (an emission that began before). It goes with the implementation, its parent;
    // a late emission finds this hub without subscribers, or gone.
    if (QObject *relay = m_relay.data()) {
        if (QObject *implementation = relay->parent())
            QObject::disconnect(implementation, nullptr, relay, nullptr);
    }
    QMutexLocker lock(&m_mutex);
    for (auto &list : m_bySignal) {
        while (!list.empty())
            endLocked(list.begin(), list, code, why);
    }
}

bool SignalHub::subscribe(int signal, const std::shared_ptr<ConnectionState> &connection, quint64 id,
                          Serialization serialization, QByteArray &&confirmation)
{
    QMutexLocker lock(&m_mutex);
    for (const auto &list : m_bySignal) {
        for (const Subscriber &s : list) {
            if (s.key == connection.get() && s.id == id)
                return false;
        }
    }
    // Counted before the confirmation leaves: whoever reads it sees the subscription counted.
    m_bySignal[size_t(signal)].push_back({connection, connection.get(), id, serialization, 0});
    m_counters->subscriptions.fetch_add(1);
    m_counters->subscribed.fetch_add(1, std::memory_order_relaxed);
    connection->outbox->post(std::move(confirmation), Outbox::When::WriteNow);
    return true;
}

void SignalHub::unsubscribe(const ConnectionState *connection, quint64 id)
{
    QMutexLocker lock(&m_mutex);
    for (auto &list : m_bySignal) {
        const auto before = list.size();
        list.erase(std::remove_if(list.begin(), list.end(),
                                  [&](const Subscriber &s) { return s.key == connection && s.id == id; }),
                   list.end());
        m_counters->subscriptions.fetch_sub(int(before - list.size()));
    }
}

bool SignalHub::has(const ConnectionState *connection, quint64 id) const
{
    QMutexLocker lock(&m_mutex);
    for (const auto &list : m_bySignal) {
        for (const Subscriber &s : list) {
            if (s.key == connection && s.id == id)
                return true;
        }
    }
    return false;
}

void SignalHub::dropConnection(const ConnectionState *connection)
{
    QMutexLocker lock(&m_mutex);
    for (auto &list : m_bySignal) {
        const auto before = list.size();
        list.erase(std::remove_if(list.begin(), list.end(), [&](const Subscriber &s) { return s.key == connection; }),
                   list.end());
        m_counters->subscriptions.fetch_sub(int(before - list.size()));
    }
}

int SignalHub::subscriberCount() const
{
    QMutexLocker lock(&m_mutex);
    size_t n = 0;
    for (const auto &list : m_bySignal)
        n += list.size();
    return int(n);
}

// The subscription ends: the subscriber is told why (when it is still there) and forgotten.
void SignalHub::endLocked(std::vector<Subscriber>::iterator it, std::vector<Subscriber> &list, RpcError::Code code,
                          const QString &why)
{
    const auto connection = it->connection.lock();
    const quint64 id = it->id;
    const quint8 serialization = quint8(it->serialization);
    // Uncounted before the notice leaves: whoever reads it sees the subscription gone.
    list.erase(it);
    m_counters->subscriptions.fetch_sub(1);
    if (connection) {
        FrameBuilder notice;
        notice.addNumber(ExtensionKey::Code, code);
        notice.add(ExtensionKey::Message, why.toUtf8());
        connection->outbox->post(notice.finish(Frame::Unsubscribe, serialization, id));
    }
}

void SignalHub::emitted(int signal, void **argv)
{
    if (signal < 0 || signal >= int(m_signals.size()))
        return;
    const SignalInfo &info = m_signals.at(signal);
    QMutexLocker lock(&m_mutex);
    std::vector<Subscriber> &list = m_bySignal[size_t(signal)];
    if (list.empty())
        return; // nobody listens: nothing is encoded
    QVarLengthArray<ValueRef, 8> values;
    for (qsizetype i = 0; i < info.parameterTypes.size(); ++i)
        values.append(ValueRef{info.parameterTypes.at(i), argv[i + 1]});
    QByteArray bodies[2]; // per serialization, encoded when first needed
    bool encoded[2] = {false, false};
    for (auto it = list.begin(); it != list.end();) {
        const auto connection = it->connection.lock();
        if (!connection) { // its connection is going; dropConnection() is on its way
            it = list.erase(it);
            m_counters->subscriptions.fetch_sub(1);
            continue;
        }
        const int s = int(it->serialization);
        if (!encoded[s]) {
            Marshal::encodeArguments(it->serialization, values.constData(), values.size(), bodies[s]);
            encoded[s] = true;
        }
        FrameBuilder frame(32 + bodies[s].size());
        frame.addNumber(ExtensionKey::Seq, qint64(it->seq + 1));
        frame.body().append(bodies[s]);
        if (connection->outbox->pendingBytes() + frame.size() > m_maxQueueBytes) {
            m_counters->overflows.fetch_add(1, std::memory_order_relaxed);
            const QString why = QStringLiteral("subscription to %1::%2 ended: %3 bytes of events wait unread by %4, "
                                               "more than max-event-queue-bytes (%5)")
                                    .arg(QString::fromLatin1(m_service), QString::fromLatin1(info.name))
                                    .arg(connection->outbox->pendingBytes())
                                    .arg(connection->peer)
                                    .arg(m_maxQueueBytes);
            qCWarning(lcServer).noquote() << why;
            const auto next = it - list.begin();
            endLocked(it, list, RpcError::ResourceExhausted, why);
            it = list.begin() + next;
            continue;
        }
        ++it->seq;
        connection->outbox->post(frame.finish(Frame::Event, quint8(it->serialization), it->id), Outbox::When::WriteNow);
        m_counters->events.fetch_add(1, std::memory_order_relaxed);
        ++it;
    }
}

} // namespace Tomato

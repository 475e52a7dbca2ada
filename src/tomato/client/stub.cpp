// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/stub.h>

#include <tomato/client/outgoingcall_p.h>
#include <tomato/client/remotesignal_p.h>
#include <tomato/core/logging_p.h>
#include <tomato/serialization/interfaceinfo_p.h>
#include <tomato/serialization/marshal_p.h>

#include <QtCore/QMetaClassInfo>
#include <QtCore/QVarLengthArray>

#include <atomic>

namespace Tomato {

PendingCall::~PendingCall() = default;

// ---- CallOptions, StubOptions --------------------------------------------------------------

class CallOptionsData : public QSharedData
{
public:
    std::chrono::milliseconds timeout{0};
    QByteArray traceId;
    QHash<QString, QString> context;
    QByteArray hashKey;
};

CallOptions::CallOptions() = default;
CallOptions::CallOptions(const CallOptions &other) = default;
CallOptions &CallOptions::operator=(const CallOptions &other) = default;
CallOptions::~CallOptions() = default;

std::chrono::milliseconds CallOptions::timeout() const { return d ? d->timeout : std::chrono::milliseconds(0); }
QByteArray CallOptions::traceId() const { return d ? d->traceId : QByteArray(); }
QHash<QString, QString> CallOptions::context() const { return d ? d->context : QHash<QString, QString>(); }

CallOptions &CallOptions::setTimeout(std::chrono::milliseconds timeout)
{
    if (!d)
        d.reset(new CallOptionsData);
    d->timeout = timeout;
    return *this;
}

CallOptions &CallOptions::setTraceId(const QByteArray &traceId)
{
    if (!d)
        d.reset(new CallOptionsData);
    d->traceId = traceId;
    return *this;
}

CallOptions &CallOptions::setContext(const QHash<QString, QString> &context)
{
    if (!d)
        d.reset(new CallOptionsData);
    d->context = context;
    return *this;
}

QByteArray CallOptions::hashKey() const { return d ? d->hashKey : QByteArray(); }

CallOptions &CallOptions::setHashKey(const QByteArray &key)
{
    if (!d)
        d.reset(new CallOptionsData);
    d->hashKey = key;
    return *this;
}

CallOptions &CallOptions::addContext(const QString &key, const QString &value)
{
    if (!d)
        d.reset(new CallOptionsData);
    d->context.insert(key, value);
    return *this;
}

class StubOptionsData : public QSharedData
{
public:
    std::chrono::milliseconds timeout{0};
    std::optional<Serialization> serialization;
    int connection = 0;
};

StubOptions::StubOptions() = default;
StubOptions::StubOptions(const StubOptions &other) = default;
StubOptions &StubOptions::operator=(const StubOptions &other) = default;
StubOptions::~StubOptions() = default;

std::chrono::milliseconds StubOptions::timeout() const { return d ? d->timeout : std::chrono::milliseconds(0); }
std::optional<Serialization> StubOptions::serialization() const { return d ? d->serialization : std::nullopt; }
int StubOptions::connection() const { return d ? d->connection : 0; }

StubOptions &StubOptions::setTimeout(std::chrono::milliseconds timeout)
{
    if (!d)
        d.reset(new StubOptionsData);
    d->timeout = timeout;
    return *this;
}

StubOptions &StubOptions::setSerialization(Serialization serialization)
{
    if (!d)
        d.reset(new StubOptionsData);
    d->serialization = serialization;
    return *this;
}

StubOptions &StubOptions::setConnection(int index)
{
    if (!d)
        d.reset(new StubOptionsData);
    d->connection = index;
    return *this;
}

// ---- StubCore ------------------------------------------------------------------------------

namespace {

// What a stub's signal sinks share with it: where events go. `target` is null once the stub
// is going; posting to it happens under the mutex, so never to a stub already gone.
struct StubSignals
{
    QMutex mutex;
    QObject *target = nullptr;
    QList<SignalInfo> signalList;
    RemoteSignalStatus *status = nullptr;

    template<typename F>
    void post(F &&f)
    {
        QMutexLocker lock(&mutex);
        if (target)
            QMetaObject::invokeMethod(target, std::forward<F>(f), Qt::QueuedConnection);
    }
};

// Decoded arguments of one event, destroyed wherever the last reference goes.
struct DecodedEvent
{
    explicit DecodedEvent(const QList<QMetaType> &t) : types(t)
    {
        for (const QMetaType &type : types)
            values.append(type.create());
    }
    ~DecodedEvent()
    {
        for (qsizetype i = 0; i < types.size(); ++i)
            types.at(i).destroy(values.at(i));
    }
    QList<QMetaType> types;
    QVarLengthArray<void *, 8> values;
};

// The events of one signal, from any instance: decoded on the I/O thread, emitted on the stub's.
class StubSignalSink final : public SignalSink
{
public:
    StubSignalSink(std::shared_ptr<StubSignals> shared, int signal) : m_shared(std::move(shared)), m_signal(signal) {}

    void subscribed(const QString &instance, bool again) override
    {
        m_shared->post([shared = m_shared, k = m_signal, instance, again] {
            const QString name = QString::fromLatin1(shared->signalList.at(k).name);
            Q_EMIT shared->status->subscribed(instance, name);
            if (again)
                Q_EMIT shared->status->eventsMayHaveBeenMissed(instance, name);
        });
    }

    void delivered(const QString &instance, quint64 seq, Serialization serialization, QByteArray &&body) override
    {
        const SignalInfo &info = m_shared->signalList.at(m_signal);
        auto event = std::make_shared<DecodedEvent>(info.parameterTypes);
        QString error;
        if (!Marshal::decodeArguments(serialization, body, event->types.constData(), event->values.constData(),
                                      event->types.size(), &error)) {
            qCWarning(lcClient).noquote() << QStringLiteral("event %1 of %2 from %3 cannot be decoded: %4")
                                                 .arg(seq)
                                                 .arg(QString::fromLatin1(info.signature), instance, error);
            return;
        }
        m_shared->post([shared = m_shared, index = info.index, event] {
            QVarLengthArray<void *, 9> argv;
            argv.append(nullptr);
            for (void *value : event->values)
                argv.append(value);
            QMetaObject::metacall(shared->target, QMetaObject::InvokeMetaMethod, index, argv.data());
        });
    }

    void ended(const QString &instance, const RpcError &error) override
    {
        qCInfo(lcClient).noquote() << QStringLiteral("subscription to %1 on %2 ended: %3")
                                          .arg(QString::fromLatin1(m_shared->signalList.at(m_signal).signature), instance,
                                               error.toString());
        m_shared->post([shared = m_shared, k = m_signal, instance, code = int(error.code()), message = error.message()] {
            Q_EMIT shared->status->subscriptionEnded(instance, QString::fromLatin1(shared->signalList.at(k).name), code,
                                                     message);
        });
    }

private:
    std::shared_ptr<StubSignals> m_shared;
    int m_signal;
};

} // namespace

class StubCorePrivate
{
public:
    std::shared_ptr<Channel> channel;
    const QMetaObject *interface = nullptr;
    std::shared_ptr<StubSignals> signalState = std::make_shared<StubSignals>();
    std::unique_ptr<RemoteSignalStatus> status;
    QMutex subscriptionMutex;
    std::vector<std::unique_ptr<SignalSubscription>> subscriptions; // per signal; null: none
    bool warnedNoSignals = false;
    std::atomic<bool> updatePending{false};
    InterfaceInfo info;
    QList<const MethodInfo *> methods;
    QList<QByteArray> extensionPrefix; // per slot: "service:...&method:..."
    QList<QByteArray> labels;          // per slot: "Service.method", for the debug log
    QList<bool> idempotent;            // per slot: named by Q_CLASSINFO("idempotent")
    std::chrono::milliseconds timeout{0};
    Serialization serialization = Serialization::Binary;
};

StubCore::StubCore(std::shared_ptr<Channel> channel, const QMetaObject &interface,
                   std::initializer_list<const char *> methods, const StubOptions &options)
    : d(std::make_unique<StubCorePrivate>())
{
    d->channel = std::move(channel);
    d->info = InterfaceInfo::fromMetaObject(interface); // throws on unsupported types
    for (const char *name : methods) {
        const MethodInfo *m = d->info.find(name);
        if (!m)
            throw RpcError(RpcError::UnknownMethod,
                           QStringLiteral("stub for %1: the interface has no exported method '%2' "
                                          "(regenerate the stub)")
                               .arg(QString::fromLatin1(d->info.serviceName), QString::fromLatin1(name)));
        d->methods.append(m);
        d->extensionPrefix.append(requestPrefix(d->info.serviceName, m->name));
        d->labels.append(d->info.serviceName + '.' + m->name);
        d->idempotent.append(m->idempotent);
    }
    d->timeout = options.timeout().count() > 0 ? options.timeout() : d->channel->defaultTimeout();
    d->serialization = options.serialization().value_or(d->channel->defaultSerialization());
    d->interface = &interface;
    d->status = std::make_unique<RemoteSignalStatus>();
    d->signalState->signalList = d->info.remoteSignals;
    d->signalState->status = d->status.get();
    d->subscriptions.resize(size_t(d->info.remoteSignals.size()));
}

StubCore::~StubCore()
{
    {
        QMutexLocker lock(&d->subscriptionMutex);
        d->subscriptions.clear(); // unsubscribes
    }
    QMutexLocker lock(&d->signalState->mutex);
    d->signalState->target = nullptr; // events still on their way are dropped
}

Channel::~Channel() = default;

std::unique_ptr<SignalSubscription> Channel::subscribe(const SignalTarget &target)
{
    Q_UNUSED(target);
    return nullptr;
}

// connectNotify() and disconnectNotify() may be called with a lock of Qt's held (the one
// isSignalConnected() takes): the subscriptions are looked at afterwards, on the stub's thread,
// once for any number of changes in between.
void StubCore::updateSubscriptions(QObject *stub, const std::function<bool(const QMetaMethod &)> &isConnected)
{
    if (d->info.remoteSignals.isEmpty())
        return;
    {
        QMutexLocker lock(&d->signalState->mutex);
        d->signalState->target = stub;
    }
    if (d->updatePending.exchange(true))
        return;
    QMetaObject::invokeMethod(
        stub,
        [this, isConnected] {
            d->updatePending.store(false);
            applySubscriptions(isConnected);
        },
        Qt::QueuedConnection);
}

void StubCore::applySubscriptions(const std::function<bool(const QMetaMethod &)> &isConnected)
{
    QMutexLocker lock(&d->subscriptionMutex);
    for (const SignalInfo &s : std::as_const(d->info.remoteSignals)) {
        auto &subscription = d->subscriptions[size_t(s.relative)];
        const bool wanted = isConnected(d->interface->method(s.index));
        if (wanted && !subscription) {
            subscription = d->channel->subscribe(
                SignalTarget{d->info.serviceName, s.name, d->serialization,
                             std::make_shared<StubSignalSink>(d->signalState, s.relative)});
            if (!subscription && !std::exchange(d->warnedNoSignals, true))
                qCWarning(lcClient).noquote() << QStringLiteral("%1 carries no remote signals: %2 is not delivered")
                                                     .arg(d->channel->describe(), QString::fromLatin1(s.signature));
        } else if (!wanted && subscription) {
            subscription.reset();
        }
    }
}

RemoteSignalStatus *StubCore::signalStatus() const
{
    return d->status.get();
}

void StubCore::setTimeout(std::chrono::milliseconds timeout)
{
    d->timeout = timeout.count() > 0 ? timeout : d->channel->defaultTimeout();
}

std::chrono::milliseconds StubCore::timeout() const
{
    return d->timeout;
}

void StubCore::setSerialization(Serialization serialization)
{
    d->serialization = serialization;
}

Serialization StubCore::serialization() const
{
    return d->serialization;
}

Channel &StubCore::channel() const
{
    return *d->channel;
}

std::unique_ptr<OutgoingCall> startRequest(QByteArrayView extensionPrefix, Serialization serialization,
                                           std::chrono::milliseconds timeout, const CallOptions &options)
{
    // Room for the extension and a small body: the frame is built without growing.
    auto call = std::make_unique<OutgoingCall>(extensionPrefix.size() + 96);
    call->serialization = serialization;
    const auto now = std::chrono::steady_clock::now();
    call->deadline = now + timeout;
    if (lcClient().isDebugEnabled())
        call->sentAt = now;
    // Extension and body are encoded in place after a placeholder header: no copy later.
    FrameBuilder &frame = call->frame;
    frame.addEncoded(extensionPrefix);
    frame.addNumber(ExtensionKey::TimeoutMs, qint64(timeout.count()));
    const QByteArray traceId = options.traceId();
    if (!traceId.isEmpty())
        frame.add(ExtensionKey::TraceId, traceId);
    const QHash<QString, QString> context = options.context();
    for (auto it = context.cbegin(); it != context.cend(); ++it)
        frame.add((QByteArray(ExtensionKey::ContextPrefix) + it.key().toUtf8()).constData(), it.value().toUtf8());
    return call;
}

QByteArray requestPrefix(QByteArrayView service, QByteArrayView method)
{
    QByteArray prefix = "service:";
    Extension::escapeTo(service, prefix);
    prefix += "&method:";
    Extension::escapeTo(method, prefix);
    return prefix;
}

void StubCore::send(int slot, const CallOptions &options, const void *const *argv, int argc,
                    std::unique_ptr<PendingCall> pending) const
{
    const MethodInfo &m = *d->methods.at(slot);
    Q_ASSERT(argc == m.parameterTypes.size());
    const auto timeout = options.timeout().count() > 0 ? options.timeout() : d->timeout;
    auto call = startRequest(d->extensionPrefix.at(slot), d->serialization, timeout, options);
    if (lcClient().isDebugEnabled())
        call->label = d->labels.at(slot);
    QVarLengthArray<ValueRef, 8> values;
    for (int i = 0; i < argc; ++i)
        values.append(ValueRef{m.parameterTypes.at(i), argv[i]});
    Marshal::encodeArguments(d->serialization, values.constData(), values.size(), call->frame.body(),
                             &call->frame.tail());
    call->method = m.name;
    call->idempotent = d->idempotent.at(slot);
    if (d->channel->wantsHashKey()) {
        call->hashKey = options.hashKey();
        if (call->hashKey.isEmpty() && argc > 0)
            Marshal::encodeValue(Serialization::Binary, values.at(0), call->hashKey);
    }
    call->pending = std::move(pending);
    d->channel->send(std::move(call));
}

} // namespace Tomato

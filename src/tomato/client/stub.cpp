// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/stub.h>

#include <tomato/client/outgoingcall_p.h>
#include <tomato/core/logging_p.h>
#include <tomato/serialization/interfaceinfo_p.h>
#include <tomato/serialization/marshal_p.h>

#include <QtCore/QMetaClassInfo>
#include <QtCore/QVarLengthArray>

namespace Tomato {

PendingCall::~PendingCall() = default;
Channel::~Channel() = default;

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

class StubCorePrivate
{
public:
    std::shared_ptr<Channel> channel;
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
}

StubCore::~StubCore() = default;

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
    auto call = std::make_unique<OutgoingCall>();
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
    Marshal::encodeArguments(d->serialization, values.constData(), values.size(), call->frame.body());
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

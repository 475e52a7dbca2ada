#include <tomato/client/stub.h>

#include <tomato/core/interfaceinfo_p.h>
#include <tomato/wire/extension.h>
#include <tomato/wire/frame.h>

#include <QtCore/QVarLengthArray>

namespace Tomato {

PendingCall::~PendingCall() = default;
Channel::~Channel() = default;

class StubCorePrivate
{
public:
    std::shared_ptr<Channel> channel;
    InterfaceInfo info;
    QList<const MethodInfo *> methods;
    QList<QByteArray> extensionPrefix; // per slot: "service:...&method:..."
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
        QByteArray prefix = "service:";
        Extension::escapeTo(d->info.serviceName, prefix);
        prefix += "&method:";
        Extension::escapeTo(m->name, prefix);
        d->extensionPrefix.append(prefix);
    }
    d->timeout = options.timeout.count() > 0 ? options.timeout : d->channel->defaultTimeout();
    d->serialization = options.serialization.value_or(d->channel->defaultSerialization());
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

void StubCore::send(int slot, const CallOptions &options, const void *const *argv, int argc,
                    std::unique_ptr<PendingCall> pending) const
{
    const MethodInfo &m = *d->methods.at(slot);
    Q_ASSERT(argc == m.parameterTypes.size());
    const auto timeout = options.timeout.count() > 0 ? options.timeout : d->timeout;

    auto call = std::make_unique<OutgoingCall>();
    call->serialization = quint8(d->serialization);
    call->deadline = std::chrono::steady_clock::now() + timeout;
    // Header placeholder, extension and body, encoded in place: no copy of the body later.
    QByteArray &frame = call->frame;
    frame.resize(Frame::HeaderSize);
    frame += d->extensionPrefix.at(slot);
    frame += "&timeout-ms:";
    frame += QByteArray::number(qint64(timeout.count()));
    if (!options.traceId.isEmpty()) {
        frame += "&trace-id:";
        Extension::escapeTo(options.traceId, frame);
    }
    for (auto it = options.context.cbegin(); it != options.context.cend(); ++it) {
        frame += '&';
        Extension::escapeTo(QByteArray(ExtensionKey::ContextPrefix) + it.key().toUtf8(), frame);
        frame += ':';
        Extension::escapeTo(it.value().toUtf8(), frame);
    }
    call->extensionSize = frame.size() - Frame::HeaderSize;

    QVarLengthArray<ValueRef, 8> values;
    for (int i = 0; i < argc; ++i)
        values.append(ValueRef{m.parameterTypes.at(i), argv[i]});
    Marshal::encodeArguments(d->serialization, values.constData(), values.size(), frame);
    call->pending = std::move(pending);
    d->channel->send(std::move(call));
}

} // namespace Tomato

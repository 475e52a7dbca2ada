// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/dynamicstub.h>

#include <tomato/client/outgoingcall_p.h>
#include <tomato/core/logging_p.h>
#include <tomato/serialization/marshal_p.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QVarLengthArray>

namespace Tomato {

class DynamicStubPrivate
{
public:
    std::shared_ptr<Channel> channel;
    QByteArray service;
    std::chrono::milliseconds timeout{0};
    QStringList idempotent;
};

namespace {

// A dynamic call's completion: takes the raw JSON body and reads it into T with `read` on
// success.
template<typename T>
class RawPendingCall final : public TypedPendingCall<T>
{
public:
    using Reader = bool (*)(const QByteArray &body, T *out, QString *error);
    explicit RawPendingCall(Reader read) : m_read(read) {}
    bool wantsRawResult() const override { return true; }
    void setRawResult(QByteArray &&body) override { m_body = std::move(body); }
    void succeed() override
    {
        QString error;
        if (!m_read(m_body, static_cast<T *>(this->resultStorage()), &error))
            this->fail(RpcError(RpcError::ProtocolViolation, QStringLiteral("the reply cannot be decoded: %1").arg(error)));
        else
            TypedPendingCall<T>::succeed();
    }

private:
    Reader m_read;
    QByteArray m_body;
};

bool readJson(const QByteArray &body, QJsonValue *out, QString *error)
{
    if (body.trimmed().isEmpty()) {
        *out = QJsonValue(QJsonValue::Undefined); // a void method
        return true;
    }
    // QJsonDocument reads arrays and objects only: a scalar result is read as [result].
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson('[' + body + ']', &parseError);
    if (parseError.error != QJsonParseError::NoError || doc.array().size() != 1) {
        *error = parseError.error != QJsonParseError::NoError ? parseError.errorString()
                                                              : QStringLiteral("more than one JSON value");
        return false;
    }
    *out = doc.array().at(0);
    return true;
}

bool readVariant(const QByteArray &body, QVariant *out, QString *error)
{
    if (body.trimmed().isEmpty()) {
        *out = QVariant(); // a void method
        return true;
    }
    return Marshal::decodeValue(Serialization::Json, body, QMetaType::fromType<QVariant>(), out, error);
}

} // namespace

DynamicStub::DynamicStub(std::shared_ptr<Channel> channel, const QString &service, const StubOptions &options)
    : d(std::make_unique<DynamicStubPrivate>())
{
    if (!channel)
        throw RpcError(RpcError::BadArguments, QStringLiteral("DynamicStub: no channel"));
    if (service.isEmpty())
        throw RpcError(RpcError::BadArguments, QStringLiteral("DynamicStub: no service name"));
    d->channel = std::move(channel);
    d->service = service.toUtf8();
    d->timeout = options.timeout().count() > 0 ? options.timeout() : d->channel->defaultTimeout();
}

DynamicStub::~DynamicStub() = default;

QString DynamicStub::service() const
{
    return QString::fromUtf8(d->service);
}

std::chrono::milliseconds DynamicStub::timeout() const
{
    return d->timeout;
}

void DynamicStub::setTimeout(std::chrono::milliseconds timeout)
{
    d->timeout = timeout.count() > 0 ? timeout : d->channel->defaultTimeout();
}

void DynamicStub::setIdempotentMethods(const QStringList &methods)
{
    d->idempotent = methods;
}

QFuture<QJsonValue> DynamicStub::callJson(const QString &method, const QJsonArray &arguments,
                                          const CallOptions &options) const
{
    auto pending = std::make_unique<RawPendingCall<QJsonValue>>(&readJson);
    QFuture<QJsonValue> future = pending->future();
    send(method, QJsonDocument(arguments).toJson(QJsonDocument::Compact), options, std::move(pending));
    return future;
}

QFuture<QVariant> DynamicStub::call(const QString &method, const QVariantList &arguments,
                                    const CallOptions &options) const
{
    auto pending = std::make_unique<RawPendingCall<QVariant>>(&readVariant);
    QFuture<QVariant> future = pending->future();
    QVarLengthArray<ValueRef, 8> values;
    for (const QVariant &a : arguments)
        values.append(ValueRef{QMetaType::fromType<QVariant>(), &a});
    QByteArray body;
    Marshal::encodeArguments(Serialization::Json, values.constData(), values.size(), body);
    send(method, std::move(body), options, std::move(pending));
    return future;
}

void DynamicStub::send(const QString &method, QByteArray body, const CallOptions &options,
                       std::unique_ptr<PendingCall> pending) const
{
    const QByteArray name = method.toUtf8();
    const auto timeout = options.timeout().count() > 0 ? options.timeout() : d->timeout;
    auto call = startRequest(requestPrefix(d->service, name), Serialization::Json, timeout, options);
    if (lcClient().isDebugEnabled())
        call->label = d->service + '.' + name;
    call->frame.body() += body;
    call->method = name;
    call->idempotent = d->idempotent.contains(method);
    if (d->channel->wantsHashKey()) {
        call->hashKey = options.hashKey();
        if (call->hashKey.isEmpty())
            call->hashKey = body; // the arguments as a whole: equal calls go to the same instance
    }
    call->pending = std::move(pending);
    d->channel->send(std::move(call));
}

} // namespace Tomato

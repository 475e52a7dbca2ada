// SPDX-License-Identifier: Apache-2.0
#include "qmlstub.h"

#include <tomato/client/stub.h>
#include <tomato/core/rpcerror.h>

#include <QtCore/QHash>
#include <QtCore/QMetaMethod>
#include <QtCore/QMutex>
#include <QtQml/QJSEngine>
#include <QtQml/QQmlEngine>

#include <cmath>

namespace Tomato::Qml {

namespace {

struct Registered
{
    QString microServiceId;
    QList<QmlStub::Method> methods;
    StubFactory makeStub;
};

QMutex &registryMutex()
{
    static QMutex mutex;
    return mutex;
}

QHash<QString, Registered> &registered()
{
    static QHash<QString, Registered> interfaces;
    return interfaces;
}

// "QFuture<int>" travels as int (docs/ASYNC.md).
QString travellingType(const QByteArray &declared)
{
    if (declared.startsWith("QFuture<") && declared.endsWith('>'))
        return QString::fromLatin1(declared.mid(8, declared.size() - 9));
    return QString::fromLatin1(declared);
}

QString describeJs(const QJSValue &v)
{
    if (v.isUndefined())
        return QStringLiteral("undefined");
    if (v.isNull())
        return QStringLiteral("null");
    if (v.isBool())
        return QStringLiteral("a boolean");
    if (v.isNumber())
        return QStringLiteral("a number");
    if (v.isString())
        return QStringLiteral("a string");
    if (v.isArray())
        return QStringLiteral("an array");
    if (v.isDate())
        return QStringLiteral("a date");
    if (v.isCallable())
        return QStringLiteral("a function");
    return QStringLiteral("an object");
}

bool isPlainObject(const QJSValue &v)
{
    return v.isObject() && !v.isArray() && !v.isCallable() && !v.isDate() && !v.isQObject();
}

// What a JavaScript value must be to pass as `type`; empty when `v` is one.
QString expected(const QJSValue &v, QMetaType type)
{
    if (!type.isValid())
        return QString(); // not known here: the server converts and checks
    switch (type.id()) {
    case QMetaType::Bool:
        return v.isBool() ? QString() : QStringLiteral("a boolean");
    case QMetaType::Int: case QMetaType::UInt: case QMetaType::LongLong: case QMetaType::ULongLong:
    case QMetaType::Short: case QMetaType::UShort: case QMetaType::Long: case QMetaType::ULong:
    case QMetaType::Char: case QMetaType::SChar: case QMetaType::UChar:
        if (!v.isNumber())
            return QStringLiteral("a whole number");
        return std::trunc(v.toNumber()) == v.toNumber() ? QString() : QStringLiteral("a whole number");
    case QMetaType::Double: case QMetaType::Float:
        return v.isNumber() ? QString() : QStringLiteral("a number");
    case QMetaType::QString: case QMetaType::QByteArray: case QMetaType::QUuid:
        return v.isString() ? QString() : QStringLiteral("a string");
    case QMetaType::QDateTime:
        return v.isDate() || v.isString() ? QString() : QStringLiteral("a date or an ISO 8601 string");
    case QMetaType::QVariant:
        return QString();
    case QMetaType::QVariantMap: case QMetaType::QVariantHash:
        return isPlainObject(v) ? QString() : QStringLiteral("an object");
    case QMetaType::QStringList: case QMetaType::QVariantList: case QMetaType::QByteArrayList:
        return v.isArray() ? QString() : QStringLiteral("an array");
    default:
        break;
    }
    if (type.flags() & QMetaType::IsGadget)
        return isPlainObject(v) ? QString() : QStringLiteral("an object");
    if (type.flags() & QMetaType::IsEnumeration)
        return v.isString() || v.isNumber() ? QString() : QStringLiteral("a string or a number");
    const QByteArray name = type.name();
    for (const char *sequence : {"QList<", "QVector<", "QSet<", "QQueue<", "QStack<", "std::vector<", "std::list<"}) {
        if (name.startsWith(sequence))
            return v.isArray() ? QString() : QStringLiteral("an array");
    }
    for (const char *map : {"QMap<", "QHash<", "std::map<"}) {
        if (name.startsWith(map))
            return isPlainObject(v) ? QString() : QStringLiteral("an object");
    }
    return QString();
}

} // namespace

void registerInterface(const QMetaObject &mo, StubFactory makeStub)
{
    Registered r;
    r.makeStub = std::move(makeStub);
    if (const int i = mo.indexOfClassInfo("microServiceId"); i >= 0)
        r.microServiceId = QString::fromUtf8(mo.classInfo(i).value());
    for (int i = mo.methodOffset(); i < mo.methodCount(); ++i) {
        const QMetaMethod m = mo.method(i);
        if (m.access() != QMetaMethod::Public || (m.attributes() & QMetaMethod::Cloned)
            || (m.methodType() != QMetaMethod::Method && m.methodType() != QMetaMethod::Slot))
            continue;
        QmlStub::Method method;
        method.name = QString::fromLatin1(m.name());
        method.returnType = travellingType(m.typeName());
        const QList<QByteArray> names = m.parameterNames();
        for (int p = 0; p < m.parameterCount(); ++p)
            method.parameters.append({QString::fromLatin1(names.value(p)), QString::fromLatin1(m.parameterTypeName(p)),
                                      m.parameterMetaType(p)});
        r.methods.append(method);
    }
    QMutexLocker lock(&registryMutex());
    registered().insert(QString::fromLatin1(mo.className()), r);
}

// The engine of the QML that made this Stub (qjsEngine() only knows objects JavaScript has
// seen, which this one may not be yet when it completes).
QJSEngine *QmlStub::engine() const
{
    if (QQmlEngine *e = qmlEngine(this))
        return e;
    return qjsEngine(this);
}

QmlStub::QmlStub(QObject *parent) : QQmlPropertyMap(this, parent), m_invoker(new StubInvoker(this)) {}

QmlStub::~QmlStub() = default;

void QmlStub::setClient(QmlRpcClient *client)
{
    if (client == m_client)
        return;
    if (m_client)
        disconnect(m_client, nullptr, this, nullptr);
    m_client = client;
    if (m_client)
        connect(m_client, &QmlRpcClient::configurationChanged, this, &QmlStub::reconfigure);
    emit clientChanged();
    reconfigure();
}

void QmlStub::setService(const QString &service)
{
    if (service == m_service)
        return;
    m_service = service;
    emit serviceChanged();
    reconfigure();
}

void QmlStub::setMicroServiceId(const QString &id)
{
    if (id == m_microServiceId)
        return;
    m_microServiceId = id;
    emit microServiceIdChanged();
    reconfigure();
}

void QmlStub::setTimeout(int ms)
{
    if (ms == m_timeout)
        return;
    m_timeout = ms;
    if (m_stub)
        m_stub->setTimeout(std::chrono::milliseconds(ms));
    emit timeoutChanged();
}

void QmlStub::setContext(const QVariantMap &context)
{
    if (context == m_context)
        return;
    m_context = context;
    emit contextChanged();
}

QStringList QmlStub::methods() const
{
    QStringList names;
    for (const Method &m : m_methods)
        names << m.name;
    return names;
}

void QmlStub::setError(const QString &error)
{
    if (error == m_error)
        return;
    m_error = error;
    emit errorStringChanged();
}

void QmlStub::componentComplete()
{
    m_complete = true;
    reconfigure();
}

void QmlStub::reconfigure()
{
    m_stub.reset();
    m_channel.reset();
    const bool hadEvents = bool(m_events);
    m_events.reset(); // its subscriptions end with it
    if (hadEvents || m_complete)
        emit eventsChanged(); // bindings read `events` again, made for the new configuration
    if (!m_complete)
        return;
    learnMethods();
}

QObject *QmlStub::events()
{
    if (m_events || !m_complete || !m_client || m_service.isEmpty())
        return m_events.get();
    Registered r;
    {
        QMutexLocker lock(&registryMutex());
        r = registered().value(m_service);
    }
    if (!r.makeStub)
        return nullptr;
    const auto channel = m_client->channel(m_microServiceId.isEmpty() ? r.microServiceId : m_microServiceId);
    if (!channel) {
        setError(m_client->errorString());
        return nullptr;
    }
    try {
        const auto [stub, status] = r.makeStub(channel);
        m_events.reset(stub);
        QQmlEngine::setObjectOwnership(stub, QQmlEngine::CppOwnership);
        connect(status, &RemoteSignalStatus::subscribed, this, &QmlStub::subscribed);
        connect(status, &RemoteSignalStatus::eventsMayHaveBeenMissed, this, &QmlStub::eventsMayHaveBeenMissed);
        connect(status, &RemoteSignalStatus::subscriptionEnded, this, &QmlStub::subscriptionEnded);
    } catch (const RpcError &e) {
        setError(e.message());
    }
    return m_events.get();
}

DynamicStub *QmlStub::dynamicStub()
{
    if (m_stub)
        return m_stub.get();
    if (!m_client || m_service.isEmpty()) {
        setError(QStringLiteral("a Stub needs a client and a service"));
        return nullptr;
    }
    QString id = m_microServiceId;
    if (id.isEmpty()) {
        QMutexLocker lock(&registryMutex());
        id = registered().value(m_service).microServiceId;
    }
    const auto channel = m_client->channel(id);
    if (!channel) {
        setError(m_client->errorString());
        return nullptr;
    }
    try {
        m_stub = std::make_unique<DynamicStub>(channel, m_service);
        m_channel = channel;
    } catch (const RpcError &e) {
        setError(e.message());
        return nullptr;
    }
    if (m_timeout > 0)
        m_stub->setTimeout(std::chrono::milliseconds(m_timeout));
    setError(QString());
    return m_stub.get();
}

void QmlStub::learnMethods()
{
    {
        QMutexLocker lock(&registryMutex());
        const auto it = registered().constFind(m_service);
        if (it != registered().cend()) {
            const QList<Method> methods = it->methods;
            lock.unlock();
            setMethods(methods);
            return;
        }
    }
    if (m_asking || !dynamicStub())
        return;
    // The server's own description of what it publishes (docs/STATUS.md#services), through the
    // stub's channel: a cluster channel asks one of the service's instances.
    m_asking = true;
    auto introspection = std::make_shared<DynamicStub>(m_channel, QStringLiteral("Tomato::Introspection"));
    whenFinished(introspection->call(QStringLiteral("services"), {}), this,
                 [this, introspection](const QFuture<QVariant> &f) {
        m_asking = false;
        QVariantList services;
        try {
            services = waitFor(f).toList();
        } catch (const RpcError &e) {
            setError(QStringLiteral("cannot learn the methods of %1: %2").arg(m_service, e.toString()));
            return;
        }
        for (const QVariant &entry : std::as_const(services)) {
            const QVariantMap service = entry.toMap();
            if (service.value(QStringLiteral("service")).toString() != m_service)
                continue;
            QList<Method> methods;
            for (const QVariant &mv : service.value(QStringLiteral("methods")).toList()) {
                const QVariantMap mm = mv.toMap();
                Method method;
                method.name = mm.value(QStringLiteral("name")).toString();
                method.returnType = mm.value(QStringLiteral("returnType")).toString();
                for (const QVariant &av : mm.value(QStringLiteral("arguments")).toList()) {
                    const QVariantMap a = av.toMap();
                    const QString type = a.value(QStringLiteral("type")).toString();
                    method.parameters.append({a.value(QStringLiteral("name")).toString(), type,
                                              QMetaType::fromName(type.toLatin1())});
                }
                methods.append(method);
            }
            setMethods(methods);
            return;
        }
        setError(QStringLiteral("the server does not publish %1").arg(m_service));
    });
}

void QmlStub::setMethods(const QList<Method> &methods)
{
    for (const Method &m : std::as_const(m_methods))
        clear(m.name);
    m_methods = methods;
    QJSEngine *jsEngine = engine();
    if (jsEngine) {
        const QJSValue factory = jsEngine->evaluate(QStringLiteral(
            "(function(invoker, name) { return function() {"
            " return invoker.invoke(name, Array.prototype.slice.call(arguments)); }; })"));
        const QJSValue invoker = jsEngine->newQObject(m_invoker);
        for (const Method &m : std::as_const(m_methods)) {
            // A name of the Stub's own (call, client, ...) stays reachable through call(). The
            // static meta-object: the map's own would add the name while looking it up.
            const QByteArray name = m.name.toLatin1();
            const QMetaObject &own = QmlStub::staticMetaObject;
            bool taken = own.indexOfProperty(name.constData()) >= 0;
            for (int i = 0; !taken && i < own.methodCount(); ++i)
                taken = own.method(i).name() == name;
            if (taken)
                continue;
            insert(m.name, QVariant::fromValue(factory.call({invoker, QJSValue(m.name)})));
        }
    }
    m_ready = true;
    emit readyChanged(); // also when the methods changed (another service or client)
}

QJSValue QmlStub::makeDeferred(QJSValue *resolve, QJSValue *reject) const
{
    QJSEngine *jsEngine = engine();
    const QJSValue factory = jsEngine->evaluate(QStringLiteral(
        "(function() { var d = {}; d.promise = new Promise(function(res, rej) { d.resolve = res; d.reject = rej; });"
        " return d; })"));
    const QJSValue deferred = factory.call();
    *resolve = deferred.property(QStringLiteral("resolve"));
    *reject = deferred.property(QStringLiteral("reject"));
    return deferred.property(QStringLiteral("promise"));
}

QJSValue QmlStub::errorValue(int code, const QString &type, const QString &message) const
{
    QJSEngine *jsEngine = engine();
    QJSValue error = jsEngine->newErrorObject(QJSValue::GenericError, message);
    error.setProperty(QStringLiteral("code"), code);
    error.setProperty(QStringLiteral("codeName"), RpcError::codeName(RpcError::Code(code)));
    error.setProperty(QStringLiteral("type"), type);
    return error;
}

QJSValue QmlStub::rejected(int code, const QString &type, const QString &message) const
{
    QJSValue resolve, reject;
    const QJSValue promise = makeDeferred(&resolve, &reject);
    reject.call({errorValue(code, type, message)});
    return promise;
}

QJSValue QmlStub::call(const QString &method, const QJSValue &args, const QJSValue &options)
{
    QJSEngine *jsEngine = engine();
    if (!jsEngine)
        return QJSValue();
    const auto bad = [&](const QString &message) {
        return rejected(RpcError::BadArguments, RpcError::codeName(RpcError::BadArguments), message);
    };
    if (!args.isUndefined() && !args.isArray())
        return bad(QStringLiteral("%1(): the arguments must be an array").arg(method));
    int given = args.isArray() ? args.property(QStringLiteral("length")).toInt() : 0;
    QJSValue opts = options;
    const Method *m = nullptr;
    for (const Method &candidate : std::as_const(m_methods)) {
        if (candidate.name == method)
            m = &candidate;
    }
    if (m && opts.isUndefined() && given == m->parameters.size() + 1 && isPlainObject(args.property(quint32(given - 1)))) {
        opts = args.property(quint32(given - 1)); // a trailing options object
        --given;
    }
    if (m && given != m->parameters.size()) {
        QStringList names;
        for (const Parameter &p : m->parameters)
            names << p.name;
        return bad(QStringLiteral("%1() takes %2 argument(s) (%3), not %4")
                       .arg(method).arg(m->parameters.size()).arg(names.join(QLatin1String(", "))).arg(given));
    }
    QVariantList values;
    for (int i = 0; i < given; ++i) {
        const QJSValue v = args.property(quint32(i));
        if (m) {
            const Parameter &p = m->parameters.at(i);
            const QString want = expected(v, p.type);
            if (!want.isEmpty())
                return bad(QStringLiteral("%1(): argument %2 (%3) must be %4 (%5), not %6")
                               .arg(method).arg(i + 1).arg(p.name.isEmpty() ? QStringLiteral("?") : p.name, want,
                                                           p.typeName, describeJs(v)));
        }
        values.append(v.toVariant());
    }
    CallOptions callOptions;
    QHash<QString, QString> context;
    for (auto it = m_context.cbegin(); it != m_context.cend(); ++it)
        context.insert(it.key(), it.value().toString());
    if (isPlainObject(opts)) {
        if (const QJSValue t = opts.property(QStringLiteral("timeout")); t.isNumber() && t.toNumber() > 0)
            callOptions.setTimeout(std::chrono::milliseconds(qint64(t.toNumber())));
        if (const QJSValue c = opts.property(QStringLiteral("context")); isPlainObject(c)) {
            const QVariantMap map = c.toVariant().toMap();
            for (auto it = map.cbegin(); it != map.cend(); ++it)
                context.insert(it.key(), it.value().toString());
        }
        if (const QJSValue t = opts.property(QStringLiteral("traceId")); t.isString())
            callOptions.setTraceId(t.toString().toUtf8());
    }
    if (!context.isEmpty())
        callOptions.setContext(context);
    DynamicStub *stub = dynamicStub();
    if (!stub)
        return rejected(RpcError::NoProvider, RpcError::codeName(RpcError::NoProvider), m_error);
    QJSValue resolve, reject;
    const QJSValue promise = makeDeferred(&resolve, &reject);
    whenFinished(stub->call(method, values, callOptions), this, [this, resolve, reject](const QFuture<QVariant> &f) mutable {
        try {
            const QVariant value = waitFor(f);
            resolve.call({value.isValid() ? engine()->toScriptValue(value) : QJSValue()});
        } catch (const RpcError &e) {
            reject.call({errorValue(e.code(), e.remoteType().isEmpty() ? RpcError::codeName(e.code()) : e.remoteType(),
                                    e.message())});
        }
    });
    return promise;
}

} // namespace Tomato::Qml

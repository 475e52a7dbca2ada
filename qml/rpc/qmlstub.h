// SPDX-License-Identifier: Apache-2.0
#pragma once
#include "qmlrpcclient.h"

#include <tomato/client/dynamicstub.h>
#include <tomato/client/stub.h>

#include <QtCore/QPointer>
#include <QtQml/QJSEngine>
#include <QtQml/QJSValue>
#include <QtQml/QQmlParserStatus>
#include <QtQml/QQmlPropertyMap>
#include <QtQml/qqmlregistration.h>

#include <functional>
#include <memory>
#include <type_traits>

namespace Tomato::Qml {

class StubInvoker;

// Stub { } in QML (docs/QML.md): a remote service's methods as JavaScript functions that
// return Promises.
//
//     RpcClient { id: rpc; address: "tcp://127.0.0.1:4567" }
//     Stub { id: echo; client: rpc; service: "Sample::EchoService" }
//     ...
//     echo.echo("hi").then(r => console.log(r), e => console.log(e.code, e.type, e.message))
//
// The methods are known from the interface when the application registered it
// (Tomato::Qml::registerInterface<Sample::EchoService>(), before the QML loads), else from
// the server's built-in Tomato::Introspection service once `ready` turns true. call(method,
// args, options) works at any time. A trailing object after a method's own arguments holds
// the call's options: {timeout: ms, context: {key: value}, traceId: "..."}.
//
// Remote signals (docs/SIGNALS.md): `events` is a typed stub of the interface, made when the
// application registered the interface with its generated stub in scope; its signals are the
// interface's, so `Connections { target: chat.events; function onMessagePosted(author, text) {} }`
// subscribes while connected. The Stub repeats what the subscriptions report as its own
// signals eventsMayHaveBeenMissed() and subscriptionEnded().
//
// Arguments are checked against the method's declared types before anything is sent (a
// wrong one is a rejected promise naming it, code 202 BadArguments); the server converts
// them (docs/SERIALIZATION.md's JSON rules). Results arrive as JavaScript values: gadgets
// and maps as objects, lists as arrays, QByteArray as base64 text, void as undefined. A
// promise settles on the QML engine's thread.
class QmlStub : public QQmlPropertyMap, public QQmlParserStatus
{
    Q_OBJECT
    QML_NAMED_ELEMENT(Stub)
    Q_INTERFACES(QQmlParserStatus)
    Q_PROPERTY(Tomato::Qml::QmlRpcClient *client READ client WRITE setClient NOTIFY clientChanged)
    Q_PROPERTY(QString service READ service WRITE setService NOTIFY serviceChanged)
    Q_PROPERTY(QString microServiceId READ microServiceId WRITE setMicroServiceId NOTIFY microServiceIdChanged)
    Q_PROPERTY(int timeout READ timeout WRITE setTimeout NOTIFY timeoutChanged) // ms; 0: the client's
    Q_PROPERTY(QVariantMap context READ context WRITE setContext NOTIFY contextChanged) // ctx.* of every call
    Q_PROPERTY(bool ready READ isReady NOTIFY readyChanged)                   // the methods are known
    Q_PROPERTY(QStringList methods READ methods NOTIFY readyChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)
    // The interface's remote signals; null when the interface was not registered with its stub.
    Q_PROPERTY(QObject *events READ events NOTIFY eventsChanged)

public:
    explicit QmlStub(QObject *parent = nullptr);
    ~QmlStub() override;

    QmlRpcClient *client() const { return m_client; }
    void setClient(QmlRpcClient *client);
    QString service() const { return m_service; }
    void setService(const QString &service);
    QString microServiceId() const { return m_microServiceId; }
    void setMicroServiceId(const QString &id);
    int timeout() const { return m_timeout; }
    void setTimeout(int ms);
    QVariantMap context() const { return m_context; }
    void setContext(const QVariantMap &context);
    bool isReady() const { return m_ready; }
    QStringList methods() const;
    QString errorString() const { return m_error; }
    QObject *events();

    // Calls `method` with the arguments in the array `args`; `options` as above. A Promise.
    Q_INVOKABLE QJSValue call(const QString &method, const QJSValue &args = QJSValue(),
                              const QJSValue &options = QJSValue());

    void classBegin() override {}
    void componentComplete() override;

    struct Parameter
    {
        QString name;
        QString typeName;
        QMetaType type; // invalid when the type is not known here (checked by the server)
    };
    struct Method
    {
        QString name;
        QList<Parameter> parameters;
        QString returnType;
    };

Q_SIGNALS:
    void clientChanged();
    void serviceChanged();
    void microServiceIdChanged();
    void timeoutChanged();
    void contextChanged();
    void readyChanged();
    void errorStringChanged();
    void eventsChanged();
    // From the subscriptions of `events` (RemoteSignalStatus): an instance confirmed one (also
    // after a reconnect), events may have been missed, an instance refused or ended one.
    void subscribed(const QString &instance, const QString &signal);
    void eventsMayHaveBeenMissed(const QString &instance, const QString &signal);
    void subscriptionEnded(const QString &instance, const QString &signal, int code, const QString &message);

private:
    void reconfigure();
    void learnMethods(); // from the registered interface, else from the server
    void setMethods(const QList<Method> &methods);
    void setError(const QString &error);
    DynamicStub *dynamicStub();
    QJSEngine *engine() const;
    QJSValue makeDeferred(QJSValue *resolve, QJSValue *reject) const;
    QJSValue rejected(int code, const QString &type, const QString &message) const;
    QJSValue errorValue(int code, const QString &type, const QString &message) const;

    QPointer<QmlRpcClient> m_client;
    QString m_service, m_microServiceId, m_error;
    int m_timeout = 0;
    QVariantMap m_context;
    bool m_ready = false;
    bool m_complete = false;
    bool m_asking = false; // an introspection call is under way
    QList<Method> m_methods;
    std::unique_ptr<DynamicStub> m_stub;
    std::shared_ptr<Channel> m_channel;
    std::unique_ptr<QObject> m_events;
    StubInvoker *m_invoker; // what the method functions call (a child: never collected by JS)
};

// What the JavaScript functions of a Stub's methods call: a plain child QObject, so that
// handing it to the engine never gives the engine the Stub's ownership.
class StubInvoker : public QObject
{
    Q_OBJECT
public:
    explicit StubInvoker(QmlStub *stub) : QObject(stub), m_stub(stub) {}
    Q_INVOKABLE QJSValue invoke(const QString &method, const QJSValue &args)
    {
        return m_stub->call(method, args);
    }

private:
    QmlStub *m_stub;
};

// Makes a typed stub on a channel, with its subscription reports.
using StubFactory = std::function<std::pair<QObject *, RemoteSignalStatus *>(std::shared_ptr<Channel>)>;

// Makes an interface's methods known to Stub elements of that service before any call (and
// without the server's introspection), and with `makeStub` its remote signals (`events`).
// Call before loading the QML.
void registerInterface(const QMetaObject &interface, StubFactory makeStub = {});

namespace detail {
template<class I, class = void>
struct HasStub : std::false_type
{};
template<class I>
struct HasStub<I, std::void_t<typename StubFor<I>::Type>> : std::true_type
{};
} // namespace detail

// With the interface's generated stub header included before, `events` carries its signals.
template<class Interface>
void registerInterface()
{
    if constexpr (detail::HasStub<Interface>::value) {
        registerInterface(Interface::staticMetaObject, [](std::shared_ptr<Channel> channel) {
            auto *stub = new typename StubFor<Interface>::Type(std::move(channel));
            return std::make_pair(static_cast<QObject *>(stub), stub->stubCore().signalStatus());
        });
    } else {
        registerInterface(Interface::staticMetaObject);
    }
}

} // namespace Tomato::Qml

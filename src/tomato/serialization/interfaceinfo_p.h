// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/rpcerror.h>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMetaObject>
#include <QtCore/QMetaType>

namespace Tomato {

// One remotely callable method of an interface, as both the server and stubs see it.
struct MethodInfo
{
    int index = -1;          // absolute method index in the interface's QMetaObject
    QByteArray name;         // what travels as the `method` extension
    QByteArray signature;    // normalized, e.g. "echo(QString)"
    // What travels back: the declared return type, or T for a method returning QFuture<T>
    // (asynchronous: answered when the future finishes). Invalid for void and QFuture<void>.
    QMetaType returnType;
    // What the method itself returns (the server's storage for QMetaObject::metacall): the
    // QFuture<T> of an asynchronous method, else returnType.
    QMetaType invokeReturnType;
    bool async = false;      // declared to return QFuture<T> (docs/ASYNC.md)
    QList<QMetaType> parameterTypes;
    QList<QByteArray> parameterNames; // as declared (empty where the declaration has none)
    bool idempotent = false;          // the interface's Q_CLASSINFO("idempotent") names it
    bool returnsVoid() const { return !returnType.isValid(); }
};

// One signal of an interface that clients may subscribe to (docs/SIGNALS.md).
struct SignalInfo
{
    int index = -1;       // absolute method index in the interface's QMetaObject
    int relative = -1;    // position in InterfaceInfo::remoteSignals
    QByteArray name;      // what travels as the `signal` extension
    QByteArray signature; // normalized, e.g. "messagePosted(QString,QString)"
    QList<QMetaType> parameterTypes;
    QList<QByteArray> parameterNames;
};

// The remote methods of an interface QMetaObject: the public Q_INVOKABLE methods and slots
// the interface class itself declares (default-argument clones skipped). Nothing declared by
// QObject or by any class above the interface is ever remote. Built once per publish or stub
// type; immutable and shared read-only between threads afterwards.
struct InterfaceInfo
{
    QByteArray serviceName;   // the interface's qualified class name, e.g. "Sample::EchoService"
    QString microServiceId;   // its Q_CLASSINFO("microServiceId"), empty without one
    QList<MethodInfo> methods;
    QHash<QByteArray, int> byName; // method name -> position in methods
    // The public signals the interface class itself declares (not QObject's): what clients may
    // subscribe to. Not named `signals`: that is a Qt keyword.
    QList<SignalInfo> remoteSignals;

    const SignalInfo *findSignal(QByteArrayView name) const
    {
        for (const SignalInfo &s : remoteSignals) {
            if (s.name == name)
                return &s;
        }
        return nullptr;
    }
    // By absolute method index (a QMetaMethod's methodIndex()); null for any other.
    const SignalInfo *signalAt(int methodIndex) const
    {
        for (const SignalInfo &s : remoteSignals) {
            if (s.index == methodIndex)
                return &s;
        }
        return nullptr;
    }

    const MethodInfo *find(QByteArrayView name) const
    {
        // A raw view as the key: looking up allocates nothing.
        const auto it = byName.constFind(QByteArray::fromRawData(name.data(), name.size()));
        return it == byName.cend() ? nullptr : &methods.at(*it);
    }

    // Throws RpcError(BadArguments) naming the method (or signal) and the type when one uses a type
    // that cannot be marshalled, when a method name is overloaded (ambiguous on the wire) or
    // is one QObject declares, and when `metaObject` is QObject's own (an interface class
    // without Q_OBJECT has no meta-object of its own).
    static InterfaceInfo fromMetaObject(const QMetaObject &metaObject);
};

} // namespace Tomato

// SPDX-License-Identifier: Apache-2.0
#include <tomato/serialization/interfaceinfo_p.h>
#include <tomato/serialization/marshal_p.h>

#include <QtCore/QMetaMethod>
#include <QtCore/QObject>
#include <QtCore/QSet>

namespace Tomato {

namespace {

// Names QObject itself declares (deleteLater, destroyed, objectNameChanged, ...): a method of
// that name in an interface would be mistaken for, or hide, QObject's own.
bool isReservedName(const QByteArray &name)
{
    static const QSet<QByteArray> reserved = [] {
        QSet<QByteArray> names;
        const QMetaObject &qobject = QObject::staticMetaObject;
        for (int i = 0; i < qobject.methodCount(); ++i)
            names.insert(qobject.method(i).name());
        return names;
    }();
    return reserved.contains(name);
}

QString typeProblem(const QString &where, const QString &what, QMetaType type, const char *typeName)
{
    if (!type.isValid())
        return QStringLiteral("%1: %2 type %3 is not a registered meta type")
            .arg(where, what, QString::fromLatin1(typeName));
    const QString why = Marshal::unsupportedReason(type);
    return why.isEmpty() ? QString() : QStringLiteral("%1: %2: %3").arg(where, what, why);
}

// The method as a remote method, or the problems that keep it from being one.
MethodInfo describe(const QMetaMethod &m, const QByteArray &serviceName, QStringList *problems)
{
    MethodInfo mi;
    mi.index = m.methodIndex();
    mi.name = m.name();
    mi.signature = m.methodSignature();
    const QString where = QString::fromLatin1(serviceName + "::" + mi.signature);
    const QByteArray returnName = m.typeName();
    if (returnName.startsWith("QFuture<") && returnName.endsWith('>')) {
        // Asynchronous: what travels is the future's T. moc registers QFuture<T> for the
        // method, T only where it is used directly, so T is looked up by name.
        mi.async = true;
        mi.invokeReturnType = m.returnMetaType();
        const QByteArray inner = QMetaObject::normalizedType(returnName.mid(8, returnName.size() - 9).constData());
        if (inner != "void") {
            mi.returnType = QMetaType::fromName(inner);
            if (!mi.returnType.isValid())
                *problems << QStringLiteral("%1: return type %2: %3 is not a registered meta type; register it "
                                            "with qRegisterMetaType<%3>() before publishing or making a stub")
                                 .arg(where, QString::fromLatin1(returnName), QString::fromLatin1(inner));
            else if (const QString problem = typeProblem(where, QStringLiteral("return type"), mi.returnType, inner);
                     !problem.isEmpty())
                *problems << problem;
        }
    } else if (m.returnMetaType().id() != QMetaType::Void) {
        mi.returnType = m.returnMetaType();
        mi.invokeReturnType = mi.returnType;
        const QString problem = typeProblem(where, QStringLiteral("return type"), mi.returnType, m.typeName());
        if (!problem.isEmpty())
            *problems << problem;
    }
    for (int p = 0; p < m.parameterCount(); ++p) {
        const QMetaType t = m.parameterMetaType(p);
        const QString problem = typeProblem(where, QStringLiteral("parameter %1").arg(p + 1), t,
                                            m.parameterTypeName(p).constData());
        if (!problem.isEmpty())
            *problems << problem;
        mi.parameterTypes.append(t);
    }
    if (isReservedName(mi.name))
        *problems << QStringLiteral("%1: the name '%2' is declared by QObject; rename the method")
                         .arg(where, QString::fromLatin1(mi.name));
    return mi;
}

} // namespace

InterfaceInfo InterfaceInfo::fromMetaObject(const QMetaObject &mo)
{
    if (&mo == &QObject::staticMetaObject)
        throw RpcError(RpcError::BadArguments,
                       QStringLiteral("QObject is not an interface: the interface class needs Q_OBJECT "
                                      "(without it, it has no meta-object of its own)"));
    InterfaceInfo info;
    info.serviceName = QByteArray(mo.className());
    if (const int i = mo.indexOfClassInfo("microServiceId"); i >= 0)
        info.microServiceId = QString::fromUtf8(mo.classInfo(i).value());
    QList<QByteArray> idempotent; // "echo,get": the methods safe to run twice
    if (const int i = mo.indexOfClassInfo("idempotent"); i >= 0) {
        for (const QByteArray &name : QByteArray(mo.classInfo(i).value()).split(','))
            idempotent.append(name.trimmed());
    }
    QStringList problems;
    // From methodOffset(): only what the interface class itself declares.
    for (int i = mo.methodOffset(); i < mo.methodCount(); ++i) {
        const QMetaMethod m = mo.method(i);
        if (m.methodType() == QMetaMethod::Signal && m.access() == QMetaMethod::Public
            && !(m.attributes() & QMetaMethod::Cloned)) {
            SignalInfo si;
            si.index = m.methodIndex();
            si.relative = int(info.remoteSignals.size());
            si.name = m.name();
            si.signature = m.methodSignature();
            si.parameterNames = m.parameterNames();
            const QString where = QString::fromLatin1(info.serviceName + "::" + si.signature);
            for (int p = 0; p < m.parameterCount(); ++p) {
                const QMetaType t = m.parameterMetaType(p);
                const QString problem = typeProblem(where, QStringLiteral("signal parameter %1").arg(p + 1), t,
                                                    m.parameterTypeName(p).constData());
                if (!problem.isEmpty())
                    problems << problem;
                si.parameterTypes.append(t);
            }
            if (info.findSignal(si.name))
                problems << QStringLiteral("%1: signal name '%2' is overloaded; remote signals need unique names")
                                .arg(where, QString::fromLatin1(si.name));
            else
                info.remoteSignals.append(std::move(si));
            continue;
        }
        if (m.access() != QMetaMethod::Public
            || (m.methodType() != QMetaMethod::Method && m.methodType() != QMetaMethod::Slot)
            || (m.attributes() & QMetaMethod::Cloned))
            continue;
        MethodInfo mi = describe(m, info.serviceName, &problems);
        mi.parameterNames = m.parameterNames();
        mi.idempotent = idempotent.contains(mi.name);
        if (info.byName.contains(mi.name)) {
            problems << QStringLiteral("%1::%2: method name '%3' is overloaded; remote methods need unique names")
                            .arg(QString::fromLatin1(info.serviceName), QString::fromLatin1(mi.signature),
                                 QString::fromLatin1(mi.name));
            continue;
        }
        info.byName.insert(mi.name, int(info.methods.size()));
        info.methods.append(std::move(mi));
    }
    if (info.methods.isEmpty() && info.remoteSignals.isEmpty() && problems.isEmpty())
        problems << QStringLiteral("it declares no public Q_INVOKABLE method (a pure virtual method without "
                                   "Q_INVOKABLE is invisible to moc: add Q_INVOKABLE)");
    if (!problems.isEmpty())
        throw RpcError(RpcError::BadArguments,
                       QStringLiteral("interface %1 cannot be used remotely: %2")
                           .arg(QString::fromLatin1(info.serviceName), problems.join(QLatin1String("; "))));
    return info;
}

} // namespace Tomato

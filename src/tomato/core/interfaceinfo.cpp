#include <tomato/core/interfaceinfo_p.h>
#include <tomato/serialization/marshal.h>

#include <QtCore/QMetaMethod>

namespace Tomato {

InterfaceInfo InterfaceInfo::fromMetaObject(const QMetaObject &mo)
{
    InterfaceInfo info;
    info.metaObject = &mo;
    info.serviceName = QByteArray(mo.className());
    const int ci = mo.indexOfClassInfo("microServiceId");
    if (ci >= 0)
        info.microServiceId = QString::fromUtf8(mo.classInfo(ci).value());

    QStringList problems;
    for (int i = mo.methodOffset(); i < mo.methodCount(); ++i) {
        const QMetaMethod m = mo.method(i);
        if (m.access() != QMetaMethod::Public)
            continue;
        if (m.methodType() != QMetaMethod::Method && m.methodType() != QMetaMethod::Slot)
            continue;
        if (m.attributes() & QMetaMethod::Cloned)
            continue;
        MethodInfo mi;
        mi.index = i;
        mi.name = m.name();
        mi.signature = m.methodSignature();
        const QString where = QString::fromLatin1(info.serviceName + "::" + mi.signature);
        if (m.returnMetaType().id() != QMetaType::Void) {
            mi.returnType = m.returnMetaType();
            if (!mi.returnType.isValid()) {
                problems << QStringLiteral("%1: return type %2 is not a registered meta type")
                                .arg(where, QString::fromLatin1(m.typeName()));
            } else {
                const QString why = Marshal::unsupportedReason(mi.returnType);
                if (!why.isEmpty())
                    problems << QStringLiteral("%1: return type: %2").arg(where, why);
            }
        }
        for (int p = 0; p < m.parameterCount(); ++p) {
            const QMetaType t = m.parameterMetaType(p);
            if (!t.isValid()) {
                problems << QStringLiteral("%1: parameter %2 type %3 is not a registered meta type")
                                .arg(where).arg(p + 1)
                                .arg(QString::fromLatin1(m.parameterTypeName(p)));
                continue;
            }
            const QString why = Marshal::unsupportedReason(t);
            if (!why.isEmpty())
                problems << QStringLiteral("%1: parameter %2: %3").arg(where).arg(p + 1).arg(why);
            mi.parameterTypes.append(t);
        }
        if (info.byName.contains(mi.name)) {
            problems << QStringLiteral("%1: method name '%2' is overloaded; remote methods need unique names")
                            .arg(where, QString::fromLatin1(mi.name));
            continue;
        }
        info.byName.insert(mi.name, int(info.methods.size()));
        info.methods.append(std::move(mi));
    }
    if (!problems.isEmpty())
        throw RpcError(RpcError::BadArguments,
                       QStringLiteral("interface %1 cannot be used remotely: %2")
                           .arg(QString::fromLatin1(info.serviceName), problems.join(QLatin1String("; "))));
    return info;
}

} // namespace Tomato

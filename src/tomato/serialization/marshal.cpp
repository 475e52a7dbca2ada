// SPDX-License-Identifier: Apache-2.0
#include <tomato/serialization/marshal_p.h>
#include <tomato/serialization/typeinfo_p.h>

#include <QtCore/QAssociativeIterable>
#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QLoggingCategory>
#include <QtCore/QReadWriteLock>
#include <QtCore/QSequentialIterable>
#include <QtCore/QUuid>
#include <QtCore/QVariant>

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace Tomato {
namespace MarshalPrivate {

namespace {

Q_LOGGING_CATEGORY(lcSerialization, "tomato.serialization")

// The introspection cache. Keyed by the QMetaTypeInterface pointer: that is what a QMetaType
// is, it is stable for the life of the process, and looking it up needs no registration. (The
// same C++ type may have one interface per shared object, so it may get two entries; both
// describe it correctly.) Entries are never removed, and the cache itself is deliberately
// never destroyed: an encoder running on another thread while static destructors run at exit
// must not find it gone.
struct TypeCache
{
    QReadWriteLock lock;
    QHash<const QtPrivate::QMetaTypeInterface *, TypeInfo *> infos;
};

TypeCache &typeCache()
{
    static TypeCache *cache = new TypeCache;
    return *cache;
}

const TypeInfo *invalidTypeInfo()
{
    static const TypeInfo info = [] {
        TypeInfo i;
        i.reason = QStringLiteral("the type is not known to Qt's meta-type system");
        return i;
    }();
    return &info;
}

// Builds TypeInfos for a type and everything it contains, under the cache's write lock.
// Types may be recursive (a gadget holding a QList of itself), so an entry is published to
// the map before its parts are examined; whether a part is unsupported is therefore only
// known once all parts exist, and propagateUnsupported() settles it afterwards.
class TypeInfoBuilder
{
public:
    explicit TypeInfoBuilder(QHash<const QtPrivate::QMetaTypeInterface *, TypeInfo *> &infos)
        : m_infos(infos)
    {
    }

    TypeInfo *build(QMetaType type)
    {
        if (!type.isValid())
            return const_cast<TypeInfo *>(invalidTypeInfo());
        if (TypeInfo *existing = m_infos.value(type.iface()))
            return existing;
        auto *info = new TypeInfo;
        info->type = type;
        m_infos.insert(type.iface(), info);
        m_built.append(info);
        describe(info);
        return info;
    }

    void propagateUnsupported()
    {
        bool changed = true;
        while (changed) {
            changed = false;
            for (TypeInfo *info : qAsConst(m_built)) {
                if (info->kind == TypeInfo::Kind::Unsupported)
                    continue;
                if (const QString reason = partReason(info); !reason.isEmpty()) {
                    info->kind = TypeInfo::Kind::Unsupported;
                    info->reason = reason;
                    changed = true;
                }
            }
        }
    }

private:
    static QString partReason(const TypeInfo *info)
    {
        using Kind = TypeInfo::Kind;
        switch (info->kind) {
        case Kind::Gadget:
            for (const PropertyInfo &p : info->properties) {
                if (p.type->kind == Kind::Unsupported) {
                    return QStringLiteral("%1: property '%2' of type %3")
                            .arg(info->typeName(), p.name, p.type->reason);
                }
            }
            return {};
        case Kind::Sequence:
            if (info->element->kind == Kind::Unsupported)
                return QStringLiteral("%1: element type %2").arg(info->typeName(), info->element->reason);
            return {};
        case Kind::Map:
            if (info->element->kind == Kind::Unsupported)
                return QStringLiteral("%1: value type %2").arg(info->typeName(), info->element->reason);
            return {};
        default:
            return {};
        }
    }

    static void unsupported(TypeInfo *info, const QString &why)
    {
        info->kind = TypeInfo::Kind::Unsupported;
        info->reason = why;
    }

    // "<type>: <why>"
    static void unsupportedBecause(TypeInfo *info, const QString &why)
    {
        unsupported(info, info->typeName() + QLatin1String(": ") + why);
    }

    static void integer(TypeInfo *info, bool isSigned)
    {
        info->kind = isSigned ? TypeInfo::Kind::Signed : TypeInfo::Kind::Unsigned;
        info->isSigned = isSigned;
        info->size = info->type.sizeOf();
    }

    void describe(TypeInfo *info)
    {
        using Kind = TypeInfo::Kind;
        const QMetaType type = info->type;
        // A QMetaType that came from moc's metadata may not be registered yet; registering
        // runs the type's legacy registration, which installs the QSequentialIterable /
        // QAssociativeIterable views of container types. (Qt 6.4 happens to register inside
        // QMetaMethod::parameterMetaType() and QMetaType::canView() as well; this does not
        // depend on it.)
        const int id = type.id();
        switch (id) {
        case QMetaType::Void:
            return unsupported(info, QStringLiteral("void has no value (a void result is an empty body)"));
        case QMetaType::Nullptr: info->kind = Kind::Null; return;
        case QMetaType::Bool: info->kind = Kind::Bool; return;
        case QMetaType::Char: return integer(info, std::is_signed_v<char>);
        case QMetaType::SChar:
        case QMetaType::Short:
        case QMetaType::Int:
        case QMetaType::Long:
        case QMetaType::LongLong:
            return integer(info, true);
        case QMetaType::UChar:
        case QMetaType::UShort:
        case QMetaType::UInt:
        case QMetaType::ULong:
        case QMetaType::ULongLong:
        case QMetaType::Char16:
        case QMetaType::Char32:
            return integer(info, false);
        case QMetaType::Float: info->kind = Kind::Float; return;
        case QMetaType::Double: info->kind = Kind::Double; return;
        case QMetaType::QString: info->kind = Kind::String; return;
        case QMetaType::QByteArray: info->kind = Kind::Bytes; return;
        case QMetaType::QDateTime: info->kind = Kind::DateTime; return;
        case QMetaType::QUuid: info->kind = Kind::Uuid; return;
        case QMetaType::QVariant: info->kind = Kind::Variant; return;
        default:
            break;
        }

        const QMetaType::TypeFlags flags = type.flags();
        if (flags & (QMetaType::PointerToQObject | QMetaType::PointerToGadget | QMetaType::IsPointer))
            return unsupported(info, info->typeName() + QLatin1String(" is not supported (pointers cannot be sent)"));
        if (flags & QMetaType::IsEnumeration)
            return describeEnum(info);
        if (flags & QMetaType::IsGadget)
            return describeGadget(info);
        if (QMetaType::canView(type, QMetaType::fromType<QSequentialIterable>()))
            return describeSequence(info);
        if (QMetaType::canView(type, QMetaType::fromType<QAssociativeIterable>()))
            return describeMap(info);
        unsupported(info, QStringLiteral("%1 is not supported").arg(info->typeName()));
    }

    static void describeEnum(TypeInfo *info)
    {
        const QMetaType type = info->type;
        const QMetaObject *scope = type.metaObject();
        QByteArray name = type.name();
        const qsizetype colons = name.lastIndexOf("::");
        if (colons >= 0)
            name = name.mid(colons + 2);
        const int index = scope ? scope->indexOfEnumerator(name.constData()) : -1;
        if (index < 0) {
            return unsupportedBecause(info, QStringLiteral("enum without Q_ENUM or Q_ENUM_NS metadata is not supported"));
        }
        const int size = type.sizeOf();
        if (size != 1 && size != 2 && size != 4 && size != 8)
            return unsupportedBecause(info, QStringLiteral("enum of unexpected size %1").arg(size));
        info->kind = TypeInfo::Kind::Enum;
        info->metaEnum = scope->enumerator(index);
        info->size = size;
        info->isSigned = !(type.flags() & QMetaType::IsUnsignedEnumeration);
    }

    void describeGadget(TypeInfo *info)
    {
        const QMetaType type = info->type;
        const QMetaObject *mo = type.metaObject();
        if (!mo)
            return unsupportedBecause(info, QStringLiteral("gadget without a meta-object"));
        // Decoding makes new elements and properties from scratch.
        void *probe = type.create();
        if (!probe)
            return unsupportedBecause(info, QStringLiteral("gadget is not default-constructible"));
        type.destroy(probe);

        info->kind = TypeInfo::Kind::Gadget;
        for (int i = 0; i < mo->propertyCount(); ++i) {
            const QMetaProperty property = mo->property(i);
            // Only what can be read on one side and written on the other travels; a computed
            // (read-only or STORED false) property is not part of the value.
            if (!property.isReadable() || !property.isWritable() || !property.isStored())
                continue;
            PropertyInfo p;
            p.property = property;
            p.name = QString::fromUtf8(property.name());
            p.isVariant = property.metaType() == QMetaType::fromType<QVariant>();
            if (!property.metaType().isValid()) {
                return unsupportedBecause(info, QStringLiteral("property '%1' of type %2 is not known to Qt's meta-type system")
                                                        .arg(p.name, QString::fromLatin1(property.typeName())));
            }
            info->properties.append(p);
        }
        // Only now, so that a recursive type finds this entry complete enough to point at.
        for (PropertyInfo &p : info->properties)
            p.type = build(p.property.metaType());
    }

    void describeSequence(TypeInfo *info)
    {
        const QMetaType type = info->type;
        QMetaSequence sequence;
        if (void *probe = type.create()) {
            QSequentialIterable iterable;
            if (QMetaType::view(type, probe, QMetaType::fromType<QSequentialIterable>(), &iterable))
                sequence = iterable.metaContainer();
            type.destroy(probe);
        }
        const bool readable = (sequence.hasSize() && sequence.canGetValueAtIndex())
                || (sequence.hasConstIterator() && sequence.canGetValueAtConstIterator());
        if (!sequence.valueMetaType().isValid() || !readable || !sequence.canAddValue())
            return unsupportedBecause(info, QStringLiteral("container cannot be read and filled through QMetaSequence"));
        info->kind = TypeInfo::Kind::Sequence;
        info->sequence = sequence;
        info->sequenceIndexed = sequence.hasSize() && sequence.canGetValueAtIndex();
        info->element = build(sequence.valueMetaType());
    }

    void describeMap(TypeInfo *info)
    {
        const QMetaType type = info->type;
        QMetaAssociation association;
        if (void *probe = type.create()) {
            QAssociativeIterable iterable;
            if (QMetaType::view(type, probe, QMetaType::fromType<QAssociativeIterable>(), &iterable))
                association = iterable.metaContainer();
            type.destroy(probe);
        }
        if (association.keyMetaType() != QMetaType::fromType<QString>())
            return unsupportedBecause(info, QStringLiteral("map keys must be QString"));
        if (!association.mappedMetaType().isValid() || !association.hasConstIterator()
            || !association.canGetKeyAtConstIterator() || !association.canGetMappedAtConstIterator()
            || !association.canSetMappedAtKey()) {
            return unsupportedBecause(info, QStringLiteral("container cannot be read and filled through QMetaAssociation"));
        }
        info->kind = TypeInfo::Kind::Map;
        info->association = association;
        info->element = build(association.mappedMetaType());
    }

    QHash<const QtPrivate::QMetaTypeInterface *, TypeInfo *> &m_infos;
    QList<TypeInfo *> m_built;
};

template <typename T>
T loadAs(const void *data)
{
    T v;
    std::memcpy(&v, data, sizeof v);
    return v;
}

template <typename T>
void storeAs(void *out, T v)
{
    std::memcpy(out, &v, sizeof v);
}

// Fits a C-style int from QMetaEnum into the wire representation of an enum of this width.
WireInteger fromEnumInt(const TypeInfo *info, int v)
{
    if (!info->isSigned && info->size == 4)
        return WireInteger::fromUnsigned(quint32(v));
    return WireInteger::fromSigned(v);
}

} // namespace

const TypeInfo *typeInfo(QMetaType type)
{
    if (!type.isValid())
        return invalidTypeInfo();
    TypeCache &cache = typeCache();
    {
        QReadLocker locker(&cache.lock);
        if (const TypeInfo *info = cache.infos.value(type.iface()))
            return info;
    }
    QWriteLocker locker(&cache.lock);
    TypeInfoBuilder builder(cache.infos);
    const TypeInfo *info = builder.build(type);
    builder.propagateUnsupported();
    return info;
}

bool DecodeContext::enter()
{
    if (m_depth >= MaxDepth)
        return fail(QStringLiteral("nested deeper than %1 levels").arg(MaxDepth));
    ++m_depth;
    return true;
}

bool DecodeContext::fail(const QString &message)
{
    if (!m_error)
        return false;
    QString text = m_argument > 0 ? QStringLiteral("argument %1").arg(m_argument) : m_subject;
    if (!m_path.isEmpty()) {
        if (!text.isEmpty())
            text += QLatin1String(": ");
        for (const Segment &s : m_path) {
            if (s.isKey) {
                // Keys come from the peer: keep an absurd one from flooding logs.
                constexpr qsizetype maxShown = 64;
                text += QLatin1String("[\"");
                text += s.name->size() > maxShown ? s.name->left(maxShown) + QStringLiteral("...") : *s.name;
                text += QLatin1String("\"]");
            } else if (s.name) {
                text += QLatin1Char('.') + *s.name;
            } else {
                text += QLatin1Char('[') + QString::number(s.index) + QLatin1Char(']');
            }
        }
    }
    if (!text.isEmpty())
        text += QLatin1String(": ");
    text += message;
    *m_error = text;
    return false;
}

ScratchValue::ScratchValue(QMetaType type) : m_type(type)
{
    // Element types are default-constructible: typeInfo() refuses gadgets that are not, and
    // every other supported type is.
    if (size_t(type.sizeOf()) <= sizeof m_buffer && size_t(type.alignOf()) <= alignof(std::max_align_t))
        m_data = type.construct(m_buffer);
    else
        m_data = type.create();
    Q_ASSERT(m_data);
}

ScratchValue::~ScratchValue()
{
    if (m_data == static_cast<void *>(m_buffer))
        m_type.destruct(m_data);
    else
        m_type.destroy(m_data);
}

void ScratchValue::reset()
{
    m_type.destruct(m_data);
    m_type.construct(m_data);
}

QString WireInteger::toString() const
{
    if (!negative)
        return QString::number(magnitude);
    if (magnitude == std::numeric_limits<quint64>::max())
        return QStringLiteral("-18446744073709551616");
    return QLatin1Char('-') + QString::number(magnitude + 1);
}

WireInteger loadInteger(const TypeInfo *info, const void *data)
{
    if (info->isSigned) {
        switch (info->size) {
        case 1: return WireInteger::fromSigned(loadAs<qint8>(data));
        case 2: return WireInteger::fromSigned(loadAs<qint16>(data));
        case 4: return WireInteger::fromSigned(loadAs<qint32>(data));
        default: return WireInteger::fromSigned(loadAs<qint64>(data));
        }
    }
    switch (info->size) {
    case 1: return WireInteger::fromUnsigned(loadAs<quint8>(data));
    case 2: return WireInteger::fromUnsigned(loadAs<quint16>(data));
    case 4: return WireInteger::fromUnsigned(loadAs<quint32>(data));
    default: return WireInteger::fromUnsigned(loadAs<quint64>(data));
    }
}

bool storeInteger(const TypeInfo *info, WireInteger value, void *out, DecodeContext &ctx)
{
    const int bits = info->size * 8;
    if (info->isSigned) {
        const quint64 max = (quint64(1) << (bits - 1)) - 1;
        // Both bounds in one: the wire form of a negative value is -1 - magnitude.
        if (value.magnitude > max) {
            return ctx.fail(QStringLiteral("%1 is out of range for %2 (%3..%4)")
                                    .arg(value.toString(), info->typeName(),
                                         WireInteger { true, max }.toString(), QString::number(max)));
        }
        const qint64 v = value.negative ? -1 - qint64(value.magnitude) : qint64(value.magnitude);
        switch (info->size) {
        case 1: storeAs(out, qint8(v)); break;
        case 2: storeAs(out, qint16(v)); break;
        case 4: storeAs(out, qint32(v)); break;
        default: storeAs(out, v); break;
        }
        return true;
    }
    const quint64 max = bits == 64 ? std::numeric_limits<quint64>::max() : (quint64(1) << bits) - 1;
    if (value.negative || value.magnitude > max) {
        return ctx.fail(QStringLiteral("%1 is out of range for %2 (0..%3)")
                                .arg(value.toString(), info->typeName(), QString::number(max)));
    }
    switch (info->size) {
    case 1: storeAs(out, quint8(value.magnitude)); break;
    case 2: storeAs(out, quint16(value.magnitude)); break;
    case 4: storeAs(out, quint32(value.magnitude)); break;
    default: storeAs(out, value.magnitude); break;
    }
    return true;
}

bool storeIntegralDouble(const TypeInfo *info, double value, void *out, DecodeContext &ctx)
{
    if (!std::isfinite(value) || std::trunc(value) != value)
        return ctx.expected(QStringLiteral("integer"), QStringLiteral("number %1").arg(value, 0, 'g', 17));
    constexpr double twoTo63 = 9223372036854775808.0;
    constexpr double twoTo64 = 18446744073709551616.0;
    if (value >= twoTo64 || value < -twoTo63) {
        return ctx.fail(QStringLiteral("%1 is out of range for %2")
                                .arg(QString::number(value, 'g', 17), info->typeName()));
    }
    // Both conversions are exact: the value is integral and inside the target's range.
    const WireInteger wire = value < 0 ? WireInteger::fromSigned(qint64(value))
                                       : WireInteger::fromUnsigned(quint64(value));
    return storeInteger(info, wire, out, ctx);
}

bool storeFloatingPoint(const TypeInfo *info, double value, void *out, DecodeContext &ctx)
{
    if (info->kind == TypeInfo::Kind::Double) {
        storeAs(out, value);
        return true;
    }
    // Anything below FLT_MAX plus half its ulp rounds to a finite float; above, it would be
    // infinity, which is not the value that was sent.
    static const double floatLimit = double(std::numeric_limits<float>::max()) + std::ldexp(1.0, 103);
    if (std::isfinite(value) && std::fabs(value) >= floatLimit) {
        return ctx.fail(QStringLiteral("%1 is out of range for float")
                                .arg(QString::number(value, 'g', 17)));
    }
    storeAs(out, float(value));
    return true;
}

QByteArray enumKey(const TypeInfo *info, WireInteger value)
{
    // QMetaEnum knows values as int; a 32-bit unsigned enum stores them bit for bit.
    int v = 0;
    if (value.negative) {
        if (value.magnitude > quint64(std::numeric_limits<int>::max()))
            return {};
        v = -1 - int(value.magnitude);
    } else if (value.magnitude <= quint64(std::numeric_limits<int>::max())) {
        v = int(value.magnitude);
    } else if (!info->isSigned && info->size == 4 && value.magnitude <= std::numeric_limits<quint32>::max()) {
        v = int(quint32(value.magnitude));
    } else {
        return {};
    }
    return QByteArray(info->metaEnum.valueToKey(v));
}

bool storeEnumKey(const TypeInfo *info, const QString &key, void *out, DecodeContext &ctx)
{
    const QByteArray utf8 = key.toUtf8();
    bool ok = false;
    const int v = info->metaEnum.keyToValue(utf8.constData(), &ok);
    if (!ok) {
        constexpr qsizetype maxShown = 64;
        return ctx.fail(QStringLiteral("unknown %1 key '%2'")
                                .arg(info->typeName(),
                                     key.size() > maxShown ? key.left(maxShown) + QStringLiteral("...") : key));
    }
    return storeInteger(info, fromEnumInt(info, v), out, ctx);
}

QString dateTimeToWire(const QDateTime &dt)
{
    const QDateTime utc = dt.toUTC();
    const int year = utc.date().year();
    if (year < 1 || year > 9999) {
        qCWarning(lcSerialization, "a QDateTime in the year %d cannot be marshalled; it was sent as null", year);
        return {};
    }
    return utc.toString(Qt::ISODateWithMs);
}

bool dateTimeFromWire(const QString &text, QDateTime *out)
{
    QDateTime dt = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!dt.isValid())
        return false;
    if (dt.timeSpec() == Qt::LocalTime) // no offset given: the wire speaks UTC only
        dt.setTimeSpec(Qt::UTC);
    *out = dt.toUTC();
    return true;
}

bool uuidFromWire(const QString &text, QUuid *out)
{
    QStringView view(text);
    if (view.size() == 38 && view.front() == QLatin1Char('{') && view.back() == QLatin1Char('}'))
        view = view.mid(1, 36);
    if (view.size() != 36)
        return false;
    // QUuid::fromString() ignores what follows a valid prefix; insist on the exact form.
    const QUuid uuid = QUuid::fromString(view);
    if (uuid.toString(QUuid::WithoutBraces).compare(view, Qt::CaseInsensitive) != 0)
        return false;
    *out = uuid;
    return true;
}

void warnUnsupportedVariant(QMetaType type)
{
    qCWarning(lcSerialization, "a QVariant holding %s cannot be marshalled; it was sent as null",
              type.isValid() ? type.name() : "an unknown type");
}

} // namespace MarshalPrivate

namespace Marshal {

using namespace MarshalPrivate;

QString unsupportedReason(QMetaType type)
{
    const TypeInfo *info = typeInfo(type);
    return info->kind == TypeInfo::Kind::Unsupported ? info->reason : QString();
}

namespace {

bool knownSerialization(Serialization s, QString *error)
{
    if (s == Serialization::Binary || s == Serialization::Json)
        return true;
    if (error)
        *error = QStringLiteral("unsupported serialization %1").arg(int(s));
    return false;
}

} // namespace

void encodeArguments(Serialization s, const ValueRef *values, qsizetype count, QByteArray &out, QByteArray *tail)
{
    if (count < 0 || (count > 0 && !values))
        count = 0;
    switch (s) {
    case Serialization::Binary: return Cbor::encodeArguments(values, count, out, tail);
    case Serialization::Json: return Json::encodeArguments(values, count, out);
    }
    qCWarning(lcSerialization, "cannot encode arguments in unknown serialization %d", int(s));
}

bool decodeArguments(Serialization s, QByteArrayView body, const QMetaType *types,
                     void *const *out, qsizetype count, QString *error, QByteArray *owner)
{
    if (!knownSerialization(s, error))
        return false;
    if (count < 0 || (count > 0 && (!types || !out))) {
        if (error)
            *error = QStringLiteral("invalid decodeArguments() call");
        return false;
    }
    switch (s) {
    case Serialization::Binary: return Cbor::decodeArguments(body, types, out, count, error, owner);
    case Serialization::Json: return Json::decodeArguments(body, types, out, count, error);
    }
    return false;
}

void encodeValue(Serialization s, ValueRef value, QByteArray &out, QByteArray *tail)
{
    switch (s) {
    case Serialization::Binary: return Cbor::encodeValue(value, out, tail);
    case Serialization::Json: return Json::encodeValue(value, out);
    }
    qCWarning(lcSerialization, "cannot encode a value in unknown serialization %d", int(s));
}

bool decodeValue(Serialization s, QByteArrayView body, QMetaType type, void *out, QString *error,
                 QByteArray *owner)
{
    if (!knownSerialization(s, error))
        return false;
    if (!out) {
        if (error)
            *error = QStringLiteral("invalid decodeValue() call");
        return false;
    }
    switch (s) {
    case Serialization::Binary: return Cbor::decodeValue(body, type, out, error, owner);
    case Serialization::Json: return Json::decodeValue(body, type, out, error);
    }
    return false;
}

} // namespace Marshal
} // namespace Tomato

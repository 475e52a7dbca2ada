// SPDX-License-Identifier: Apache-2.0
#pragma once
// Private to the serialization room: the per-type introspection cache shared by the CBOR and
// JSON codecs, the decode context that builds error paths, and integer range helpers.
#include <tomato/serialization/marshal_p.h>
#include <QtCore/QList>
#include <QtCore/QMetaContainer>
#include <QtCore/QMetaEnum>
#include <QtCore/QMetaObject>
#include <QtCore/QMetaProperty>
#include <QtCore/QVarLengthArray>
#include <cstddef>
#include <new>

namespace Tomato {
namespace MarshalPrivate {

// Containers (arrays, maps, gadgets) may nest this deep in a body; deeper input is refused
// before it can exhaust the stack of the thread that decodes it.
constexpr int MaxDepth = 64;

struct TypeInfo;

// One Q_PROPERTY of a gadget that takes part in marshalling (readable, writable, stored).
struct PropertyInfo
{
    QMetaProperty property;
    QString name;
    const TypeInfo *type = nullptr;
    bool isVariant = false; // readOnGadget()/writeOnGadget() pass a QVariant property bare
};

// What the codecs need to know about one QMetaType, worked out once and cached for the life
// of the process (see typeInfo()). Immutable once published, so any thread may read it.
struct TypeInfo
{
    enum class Kind : quint8 {
        Unsupported,
        Null,     // std::nullptr_t: always null
        Bool,
        Signed,   // all signed integer widths; size says which
        Unsigned, // all unsigned integer widths, char16_t, char32_t
        Float,
        Double,
        String,
        Bytes,
        DateTime,
        Uuid,
        Variant,  // QVariant: encoded by its dynamic type, decoded to natural types
        Enum,     // Q_ENUM / Q_ENUM_NS
        Gadget,   // Q_GADGET with Q_PROPERTYs
        Sequence, // QList<T> and anything else Qt can view as QSequentialIterable
        Map,      // QMap<QString,T>, QHash<QString,T>, ... (QAssociativeIterable)
    };

    QMetaType type;
    Kind kind = Kind::Unsupported;
    bool isSigned = false;  // Enum: the underlying type is signed
    int size = 0;           // Signed, Unsigned, Enum: the width in bytes
    QString reason;         // Unsupported: why, naming the type and the offending part

    QMetaEnum metaEnum;                 // Enum
    QList<PropertyInfo> properties;     // Gadget
    QMetaSequence sequence;             // Sequence
    QMetaAssociation association;       // Map
    const TypeInfo *element = nullptr;  // Sequence: the value type; Map: the mapped type
    bool sequenceIndexed = false;       // Sequence: read by index, no iterator allocation

    QString typeName() const { return QString::fromLatin1(type.name()); }
};

// The cached description of `type`; never null (an unknown type gives Kind::Unsupported).
// Thread-safe. Registers the type with Qt on first sight, so that a QMetaType known only from
// moc's metadata (QMetaMethod::parameterMetaType()) gets its container views installed.
const TypeInfo *typeInfo(QMetaType type);

// Accumulates where a decoder is (".items[3].name") so that an error can say so, and counts
// nesting depth. Cheap while nothing goes wrong: the path is a stack of pointers and indexes,
// formatted only on failure. Lives on the stack of one decode call.
class DecodeContext
{
public:
    explicit DecodeContext(QString *error) : m_error(error) { }

    // The thing being decoded, for messages: "request body", or empty for a response value.
    void setSubject(QString subject)
    {
        m_subject = std::move(subject);
        m_argument = 0;
    }
    // "argument <position>" (from 1), formatted only on failure: set once per argument of
    // every call, it must not allocate.
    void setArgument(qsizetype position)
    {
        m_subject.clear();
        m_argument = position;
    }

    void pushProperty(const QString *name) { m_path.append({ name, -1, false }); }
    void pushIndex(qsizetype index) { m_path.append({ nullptr, index, false }); }
    void pushKey(const QString *key) { m_path.append({ key, -1, true }); }
    void pop() { m_path.removeLast(); }

    // Call on entering a container; false (with the error set) when nested too deep.
    bool enter();
    void leave() { --m_depth; }

    // Sets the error "<subject>: <path>: <message>" and returns false, so that decoders can
    // write `return ctx.fail(...)`.
    bool fail(const QString &message);
    bool expected(const QString &what, const QString &found)
    {
        return fail(QStringLiteral("expected %1, got %2").arg(what, found));
    }

private:
    struct Segment
    {
        const QString *name;
        qsizetype index;
        bool isKey;
    };
    QString *m_error;
    QString m_subject;
    qsizetype m_argument = 0; // > 0: the subject is that argument
    QVarLengthArray<Segment, 16> m_path;
    int m_depth = 0;
};

// Keeps the current container level of a DecodeContext for one scope.
class DepthGuard
{
public:
    explicit DepthGuard(DecodeContext &ctx) : m_ctx(ctx), m_ok(ctx.enter()) { }
    ~DepthGuard()
    {
        if (m_ok)
            m_ctx.leave();
    }
    bool ok() const { return m_ok; }
    Q_DISABLE_COPY_MOVE(DepthGuard)

private:
    DecodeContext &m_ctx;
    bool m_ok;
};

// A default-constructed object of a runtime type, for container elements on their way in or
// out. Small types live in the object itself so that walking a container does not allocate.
class ScratchValue
{
public:
    explicit ScratchValue(QMetaType type);
    ~ScratchValue();
    Q_DISABLE_COPY_MOVE(ScratchValue)

    void *data() { return m_data; }
    // Back to a default-constructed value (gadget properties missing from the input must keep
    // their defaults, not the previous element's values).
    void reset();

private:
    QMetaType m_type;
    void *m_data = nullptr;
    alignas(std::max_align_t) unsigned char m_buffer[96];
};

// An integer as decoded from the wire, before it is fitted to the target width. CBOR's own
// representation: the value is `magnitude` when !negative, and -1 - magnitude when negative,
// which covers the whole range -2^64 .. 2^64-1 without overflow.
struct WireInteger
{
    bool negative = false;
    quint64 magnitude = 0;

    static WireInteger fromSigned(qint64 v)
    {
        return v < 0 ? WireInteger { true, quint64(-(v + 1)) } : WireInteger { false, quint64(v) };
    }
    static WireInteger fromUnsigned(quint64 v) { return WireInteger { false, v }; }
    QString toString() const;
};

// Reads the integer stored at `data` for an integer or enum type.
WireInteger loadInteger(const TypeInfo *info, const void *data);
// Stores `value` into `out` when it fits the width and signedness of `info` (an integer or
// enum type); otherwise fails with "<value> is out of range for <type> (<min>..<max>)".
bool storeInteger(const TypeInfo *info, WireInteger value, void *out, DecodeContext &ctx);
// For integer targets that receive a floating-point value: accepts it only when integral.
bool storeIntegralDouble(const TypeInfo *info, double value, void *out, DecodeContext &ctx);
// Stores a double into a float or double target; a finite double too large for a float fails.
bool storeFloatingPoint(const TypeInfo *info, double value, void *out, DecodeContext &ctx);

// The enum key for `value`, or empty when no enumerator has that value.
QByteArray enumKey(const TypeInfo *info, WireInteger value);
// Stores the value of the enumerator named `key`; fails naming the enum when unknown.
bool storeEnumKey(const TypeInfo *info, const QString &key, void *out, DecodeContext &ctx);

// The wire form of a valid QDateTime: UTC, millisecond precision, "yyyy-MM-ddTHH:mm:ss.zzzZ".
// Empty (and a warning is logged) when the year in UTC is outside 1..9999, which that form
// cannot express; the encoders then send null, as for an invalid QDateTime.
QString dateTimeToWire(const QDateTime &dt);
// Parses an ISO 8601 date-time; a value without an offset is taken as UTC.
bool dateTimeFromWire(const QString &text, QDateTime *out);
// Accepts "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", with or without braces, nothing else.
bool uuidFromWire(const QString &text, QUuid *out);

// Logs that a QVariant held a type that cannot be marshalled and was therefore sent as null:
// encoding has no error channel, but it must not be silent.
void warnUnsupportedVariant(QMetaType type);

// The codecs. Arguments have been checked by Marshal:: (count >= 0, pointers set).
namespace Cbor {
void encodeArguments(const ValueRef *values, qsizetype count, QByteArray &out, QByteArray *tail = nullptr);
bool decodeArguments(QByteArrayView body, const QMetaType *types, void *const *out,
                     qsizetype count, QString *error, QByteArray *owner = nullptr);
void encodeValue(ValueRef value, QByteArray &out, QByteArray *tail = nullptr);
bool decodeValue(QByteArrayView body, QMetaType type, void *out, QString *error, QByteArray *owner = nullptr);
} // namespace Cbor

namespace Json {
void encodeArguments(const ValueRef *values, qsizetype count, QByteArray &out);
bool decodeArguments(QByteArrayView body, const QMetaType *types, void *const *out,
                     qsizetype count, QString *error);
void encodeValue(ValueRef value, QByteArray &out);
bool decodeValue(QByteArrayView body, QMetaType type, void *out, QString *error);
} // namespace Json

} // namespace MarshalPrivate
} // namespace Tomato

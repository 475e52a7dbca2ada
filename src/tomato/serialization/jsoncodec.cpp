// SPDX-License-Identifier: Apache-2.0
// The Json serialization: UTF-8 JSON through QJsonValue/QJsonDocument, driven by the cached
// TypeInfo of each value. Meant for interoperability and hand-written clients rather than
// speed. docs/SERIALIZATION.md is the specification of what is written and accepted here.
#include <tomato/serialization/typeinfo_p.h>

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>
#include <QtCore/QUuid>
#include <QtCore/QVariant>

#include <charconv>
#include <cmath>
#include <limits>

namespace Tomato {
namespace MarshalPrivate {
namespace Json {

namespace {

using Kind = TypeInfo::Kind;

// JSON has no NaN or infinity; these strings stand for them (as in the protobuf JSON mapping).
QString nonFiniteName(double d)
{
    if (std::isnan(d))
        return QStringLiteral("NaN");
    return d > 0 ? QStringLiteral("Infinity") : QStringLiteral("-Infinity");
}

QJsonValue doubleToJson(double d)
{
    return std::isfinite(d) ? QJsonValue(d) : QJsonValue(nonFiniteName(d));
}

// A float is written with the fewest digits that read back as the same float ("0.1", not
// "0.10000000149011612", which is what widening it to double would print).
QJsonValue floatToJson(float f)
{
    if (!std::isfinite(f))
        return QJsonValue(nonFiniteName(double(f)));
    char text[32];
    const auto written = std::to_chars(text, text + sizeof text, f);
    double d = double(f);
    if (written.ec == std::errc())
        std::from_chars(text, written.ptr, d);
    return QJsonValue(d);
}

QJsonValue encode(const TypeInfo *info, const void *data);

QJsonValue encodeVariant(const QVariant &v)
{
    if (!v.isValid())
        return QJsonValue(QJsonValue::Null);
    const TypeInfo *info = typeInfo(v.metaType());
    if (info->kind == Kind::Unsupported)
        warnUnsupportedVariant(v.metaType());
    return encode(info, v.constData());
}

QJsonValue encodeInteger(const TypeInfo *info, const void *data)
{
    const WireInteger v = loadInteger(info, data);
    if (v.negative)
        return QJsonValue(-1 - qint64(v.magnitude));
    if (v.magnitude <= quint64(std::numeric_limits<qint64>::max()))
        return QJsonValue(qint64(v.magnitude));
    // Above 2^63-1 a JSON number would go through a double on most parsers, Qt's included.
    return QJsonValue(QString::number(v.magnitude));
}

QJsonValue encode(const TypeInfo *info, const void *data)
{
    if (!data)
        return QJsonValue(QJsonValue::Null);
    switch (info->kind) {
    case Kind::Unsupported:
    case Kind::Null:
        return QJsonValue(QJsonValue::Null);
    case Kind::Bool:
        return QJsonValue(*static_cast<const bool *>(data));
    case Kind::Signed:
    case Kind::Unsigned:
        return encodeInteger(info, data);
    case Kind::Enum: {
        const QByteArray key = enumKey(info, loadInteger(info, data));
        if (key.isEmpty())
            return encodeInteger(info, data); // a value without a name, e.g. a combination
        return QJsonValue(QString::fromUtf8(key));
    }
    case Kind::Float:
        return floatToJson(*static_cast<const float *>(data));
    case Kind::Double:
        return doubleToJson(*static_cast<const double *>(data));
    case Kind::String:
        return QJsonValue(*static_cast<const QString *>(data));
    case Kind::Bytes:
        return QJsonValue(QString::fromLatin1(static_cast<const QByteArray *>(data)->toBase64()));
    case Kind::DateTime: {
        const auto &dt = *static_cast<const QDateTime *>(data);
        const QString text = dt.isValid() ? dateTimeToWire(dt) : QString();
        return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
    }
    case Kind::Uuid:
        return QJsonValue(static_cast<const QUuid *>(data)->toString(QUuid::WithoutBraces));
    case Kind::Variant:
        return encodeVariant(*static_cast<const QVariant *>(data));
    case Kind::Gadget: {
        QJsonObject object;
        for (const PropertyInfo &p : info->properties) {
            const QVariant v = p.property.readOnGadget(data);
            if (p.isVariant)
                object.insert(p.name, encode(p.type, &v));
            else if (v.metaType() == p.type->type)
                object.insert(p.name, encode(p.type, v.constData()));
            else
                object.insert(p.name, QJsonValue(QJsonValue::Null)); // cannot happen with moc'd properties
        }
        return object;
    }
    case Kind::Sequence: {
        const QMetaSequence &seq = info->sequence;
        ScratchValue element(info->element->type);
        QJsonArray array;
        if (info->sequenceIndexed) {
            const qsizetype size = seq.size(data);
            for (qsizetype i = 0; i < size; ++i) {
                seq.valueAtIndex(data, i, element.data());
                array.append(encode(info->element, element.data()));
            }
            return array;
        }
        void *it = seq.constBegin(data);
        void *end = seq.constEnd(data);
        for (; !seq.compareConstIterator(it, end); seq.advanceConstIterator(it, 1)) {
            seq.valueAtConstIterator(it, element.data());
            array.append(encode(info->element, element.data()));
        }
        seq.destroyConstIterator(it);
        seq.destroyConstIterator(end);
        return array;
    }
    case Kind::Map: {
        const QMetaAssociation &assoc = info->association;
        ScratchValue mapped(info->element->type);
        QString key;
        QJsonObject object;
        void *it = assoc.constBegin(data);
        void *end = assoc.constEnd(data);
        for (; !assoc.compareConstIterator(it, end); assoc.advanceConstIterator(it, 1)) {
            assoc.keyAtConstIterator(it, &key);
            assoc.mappedAtConstIterator(it, mapped.data());
            object.insert(key, encode(info->element, mapped.data()));
        }
        assoc.destroyConstIterator(it);
        assoc.destroyConstIterator(end);
        return object;
    }
    }
    return QJsonValue(QJsonValue::Null);
}

QString found(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: return QStringLiteral("null");
    case QJsonValue::Bool: return QStringLiteral("boolean");
    case QJsonValue::Double: return QStringLiteral("number");
    case QJsonValue::String: return QStringLiteral("string");
    case QJsonValue::Array: return QStringLiteral("array");
    case QJsonValue::Object: return QStringLiteral("object");
    case QJsonValue::Undefined: break;
    }
    return QStringLiteral("nothing");
}

// Converts QJsonValues into typed objects. Lives for one decode call.
class Decoder
{
public:
    explicit Decoder(DecodeContext &ctx) : m_ctx(ctx) { }

    bool decode(const TypeInfo *info, const QJsonValue &v, void *out)
    {
        switch (info->kind) {
        case Kind::Unsupported:
            return m_ctx.fail(info->reason);
        case Kind::Null:
            if (!v.isNull())
                return m_ctx.expected(QStringLiteral("null"), found(v));
            return true;
        case Kind::Bool:
            if (!v.isBool())
                return m_ctx.expected(QStringLiteral("boolean"), found(v));
            *static_cast<bool *>(out) = v.toBool();
            return true;
        case Kind::Signed:
        case Kind::Unsigned:
            return decodeInteger(info, v, out, QStringLiteral("integer"));
        case Kind::Enum:
            if (v.isString())
                return storeEnumKey(info, v.toString(), out, m_ctx);
            return decodeInteger(info, v, out, QStringLiteral("%1 name or integer").arg(info->typeName()));
        case Kind::Float:
        case Kind::Double:
            return decodeFloatingPoint(info, v, out);
        case Kind::String:
            if (!v.isString())
                return m_ctx.expected(QStringLiteral("string"), found(v));
            *static_cast<QString *>(out) = v.toString();
            return true;
        case Kind::Bytes:
            return decodeBytes(v, static_cast<QByteArray *>(out));
        case Kind::DateTime: {
            auto *dt = static_cast<QDateTime *>(out);
            if (v.isNull()) {
                *dt = QDateTime();
                return true;
            }
            if (!v.isString())
                return m_ctx.expected(QStringLiteral("date-time string"), found(v));
            if (!dateTimeFromWire(v.toString(), dt))
                return m_ctx.fail(QStringLiteral("invalid date-time '%1'").arg(v.toString().left(64)));
            return true;
        }
        case Kind::Uuid:
            if (!v.isString())
                return m_ctx.expected(QStringLiteral("UUID string"), found(v));
            if (!uuidFromWire(v.toString(), static_cast<QUuid *>(out)))
                return m_ctx.fail(QStringLiteral("invalid UUID '%1'").arg(v.toString().left(64)));
            return true;
        case Kind::Variant:
            return decodeVariant(v, static_cast<QVariant *>(out));
        case Kind::Gadget:
            return decodeGadget(info, v, out);
        case Kind::Sequence:
            return decodeSequence(info, v, out);
        case Kind::Map:
            return decodeMap(info, v, out);
        }
        return m_ctx.fail(QStringLiteral("internal error: unknown kind"));
    }

private:
    bool decodeInteger(const TypeInfo *info, const QJsonValue &v, void *out, const QString &expectedWhat)
    {
        if (v.isDouble()) {
            // Qt's parser keeps integers that fit in 64 bits exact; only the rest are doubles.
            const QVariant number = v.toVariant();
            if (number.typeId() == QMetaType::LongLong)
                return storeInteger(info, WireInteger::fromSigned(number.toLongLong()), out, m_ctx);
            return storeIntegralDouble(info, v.toDouble(), out, m_ctx);
        }
        if (v.isString() && info->kind != Kind::Enum)
            return decodeDecimalString(info, v.toString(), out);
        return m_ctx.expected(expectedWhat, found(v));
    }

    // Integers too large for a JSON number travel as decimal strings: "-"? digits, nothing else.
    bool decodeDecimalString(const TypeInfo *info, const QString &text, void *out)
    {
        QStringView digits(text);
        const bool negative = digits.startsWith(QLatin1Char('-'));
        if (negative)
            digits = digits.mid(1);
        bool valid = !digits.isEmpty() && digits.size() <= 40;
        for (QChar c : digits)
            valid = valid && c >= QLatin1Char('0') && c <= QLatin1Char('9');
        if (!valid)
            return m_ctx.expected(QStringLiteral("integer"), QStringLiteral("string"));
        bool ok = false;
        const quint64 magnitude = digits.toULongLong(&ok, 10);
        if (!ok)
            return m_ctx.fail(QStringLiteral("%1 is out of range for %2").arg(text, info->typeName()));
        const WireInteger value = negative && magnitude > 0 ? WireInteger { true, magnitude - 1 }
                                                            : WireInteger::fromUnsigned(magnitude);
        return storeInteger(info, value, out, m_ctx);
    }

    bool decodeFloatingPoint(const TypeInfo *info, const QJsonValue &v, void *out)
    {
        double d = 0;
        if (v.isDouble()) {
            d = v.toDouble();
        } else if (v.isNull()) { // what most JSON writers, Qt's included, make of NaN
            d = std::numeric_limits<double>::quiet_NaN();
        } else if (v.isString() && v.toString() == QLatin1String("NaN")) {
            d = std::numeric_limits<double>::quiet_NaN();
        } else if (v.isString() && v.toString() == QLatin1String("Infinity")) {
            d = std::numeric_limits<double>::infinity();
        } else if (v.isString() && v.toString() == QLatin1String("-Infinity")) {
            d = -std::numeric_limits<double>::infinity();
        } else {
            return m_ctx.expected(QStringLiteral("number"), found(v));
        }
        return storeFloatingPoint(info, d, out, m_ctx);
    }

    bool decodeBytes(const QJsonValue &v, QByteArray *out)
    {
        if (!v.isString())
            return m_ctx.expected(QStringLiteral("base64 string"), found(v));
        const QByteArray text = v.toString().toLatin1();
        auto result = QByteArray::fromBase64Encoding(text, QByteArray::Base64Encoding
                                                                   | QByteArray::AbortOnBase64DecodingErrors);
        if (!result) {
            result = QByteArray::fromBase64Encoding(text, QByteArray::Base64UrlEncoding
                                                                  | QByteArray::AbortOnBase64DecodingErrors);
        }
        if (!result)
            return m_ctx.fail(QStringLiteral("invalid base64"));
        *out = std::move(result.decoded);
        return true;
    }

    bool decodeVariant(const QJsonValue &v, QVariant *out)
    {
        switch (v.type()) {
        case QJsonValue::Null:
        case QJsonValue::Undefined:
            *out = QVariant();
            return true;
        case QJsonValue::Bool:
            *out = v.toBool();
            return true;
        case QJsonValue::Double:
            *out = v.toVariant(); // qint64 when integral and in range, else double
            return true;
        case QJsonValue::String:
            *out = v.toString();
            return true;
        case QJsonValue::Array: {
            DepthGuard depth(m_ctx);
            if (!depth.ok())
                return false;
            const QJsonArray array = v.toArray();
            QVariantList list;
            list.reserve(array.size());
            for (qsizetype i = 0; i < array.size(); ++i) {
                QVariant element;
                m_ctx.pushIndex(i);
                if (!decodeVariant(array.at(i), &element))
                    return false;
                m_ctx.pop();
                list.append(std::move(element));
            }
            *out = std::move(list);
            return true;
        }
        case QJsonValue::Object: {
            DepthGuard depth(m_ctx);
            if (!depth.ok())
                return false;
            const QJsonObject object = v.toObject();
            QVariantMap map;
            for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
                const QString key = it.key();
                QVariant value;
                m_ctx.pushKey(&key);
                if (!decodeVariant(it.value(), &value))
                    return false;
                m_ctx.pop();
                map.insert(key, std::move(value));
            }
            *out = std::move(map);
            return true;
        }
        }
        return m_ctx.fail(QStringLiteral("unsupported JSON value"));
    }

    bool decodeGadget(const TypeInfo *info, const QJsonValue &v, void *gadget)
    {
        if (!v.isObject())
            return m_ctx.expected(QStringLiteral("object"), found(v));
        DepthGuard depth(m_ctx);
        if (!depth.ok())
            return false;
        const QJsonObject object = v.toObject();
        // Members that are not properties are ignored: a newer peer may send more than we know.
        for (const PropertyInfo &p : info->properties) {
            const auto member = object.constFind(p.name);
            if (member == object.constEnd())
                continue; // missing: keeps its default
            m_ctx.pushProperty(&p.name);
            QVariant value = p.property.readOnGadget(gadget);
            if (!p.isVariant && value.metaType() != p.type->type)
                value = QVariant(p.type->type);
            if (!decode(p.type, member.value(), p.isVariant ? static_cast<void *>(&value) : value.data()))
                return false;
            if (!p.property.writeOnGadget(gadget, value))
                return m_ctx.fail(QStringLiteral("cannot write property"));
            m_ctx.pop();
        }
        return true;
    }

    bool decodeSequence(const TypeInfo *info, const QJsonValue &v, void *container)
    {
        if (!v.isArray())
            return m_ctx.expected(QStringLiteral("array"), found(v));
        DepthGuard depth(m_ctx);
        if (!depth.ok())
            return false;
        const QMetaSequence &seq = info->sequence;
        if (seq.canClear()) {
            seq.clear(container);
        } else {
            info->type.destruct(container);
            info->type.construct(container);
        }
        const QJsonArray array = v.toArray();
        ScratchValue element(info->element->type);
        for (qsizetype i = 0; i < array.size(); ++i) {
            if (i > 0)
                element.reset();
            m_ctx.pushIndex(i);
            if (!decode(info->element, array.at(i), element.data()))
                return false;
            m_ctx.pop();
            seq.addValue(container, element.data());
        }
        return true;
    }

    bool decodeMap(const TypeInfo *info, const QJsonValue &v, void *container)
    {
        if (!v.isObject())
            return m_ctx.expected(QStringLiteral("object"), found(v));
        DepthGuard depth(m_ctx);
        if (!depth.ok())
            return false;
        const QMetaAssociation &assoc = info->association;
        if (assoc.canClear()) {
            assoc.clear(container);
        } else {
            info->type.destruct(container);
            info->type.construct(container);
        }
        const QJsonObject object = v.toObject();
        ScratchValue mapped(info->element->type);
        bool first = true;
        for (auto it = object.constBegin(); it != object.constEnd(); ++it, first = false) {
            const QString key = it.key();
            if (!first)
                mapped.reset();
            m_ctx.pushKey(&key);
            if (!decode(info->element, it.value(), mapped.data()))
                return false;
            m_ctx.pop();
            assoc.setMappedAtKey(container, &key, mapped.data());
        }
        return true;
    }

    DecodeContext &m_ctx;
};

// QJsonDocument parses only arrays and objects at the top level (Qt 6.4), so a scalar is
// parsed inside brackets. On success *out is the value; otherwise the error is set.
bool parse(QByteArrayView body, QJsonValue *out, bool wrapped, DecodeContext &ctx)
{
    QByteArray text;
    if (wrapped) {
        text.reserve(body.size() + 2);
        text.append('[').append(body.data(), body.size()).append(']');
    } else {
        text = QByteArray::fromRawData(body.data(), body.size());
    }
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError) {
        return ctx.fail(QStringLiteral("invalid JSON at byte %1: %2")
                                .arg(qMax(0, error.offset - (wrapped ? 1 : 0)))
                                .arg(error.errorString()));
    }
    if (document.isObject()) {
        *out = document.object();
        return true;
    }
    const QJsonArray array = document.array();
    if (!wrapped) {
        *out = array;
        return true;
    }
    if (array.size() != 1)
        return ctx.fail(QStringLiteral("unexpected data after the value"));
    *out = array.at(0);
    return true;
}

qsizetype firstNonSpace(QByteArrayView body)
{
    for (qsizetype i = 0; i < body.size(); ++i) {
        const char c = body.at(i);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return i;
    }
    return -1;
}

void appendDocument(const QJsonValue &value, QByteArray &out)
{
    if (value.isArray()) {
        out.append(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    } else if (value.isObject()) {
        out.append(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    } else {
        // A scalar: write it as the only element of an array and drop the brackets.
        const QByteArray text = QJsonDocument(QJsonArray { value }).toJson(QJsonDocument::Compact);
        out.append(text.constData() + 1, text.size() - 2);
    }
}

} // namespace

void encodeArguments(const ValueRef *values, qsizetype count, QByteArray &out)
{
    QJsonArray array;
    for (qsizetype i = 0; i < count; ++i) {
        const TypeInfo *info = typeInfo(values[i].type);
        if (info->kind == Kind::Unsupported)
            warnUnsupportedVariant(values[i].type);
        array.append(encode(info, values[i].data));
    }
    out.append(QJsonDocument(array).toJson(QJsonDocument::Compact));
}

void encodeValue(ValueRef value, QByteArray &out)
{
    const TypeInfo *info = typeInfo(value.type);
    if (info->kind == Kind::Unsupported)
        warnUnsupportedVariant(value.type);
    appendDocument(encode(info, value.data), out);
}

bool decodeArguments(QByteArrayView body, const QMetaType *types, void *const *out,
                     qsizetype count, QString *error)
{
    DecodeContext ctx(error);
    ctx.setSubject(QStringLiteral("request body"));
    if (firstNonSpace(body) < 0)
        return ctx.fail(QStringLiteral("empty, expected an array of %1 arguments").arg(count));
    QJsonValue document;
    if (!parse(body, &document, false, ctx))
        return false;
    if (!document.isArray())
        return ctx.expected(QStringLiteral("array of %1 arguments").arg(count), found(document));
    const QJsonArray array = document.toArray();
    if (array.size() != count)
        return ctx.fail(QStringLiteral("expected %1 arguments, got %2").arg(count).arg(array.size()));
    Decoder decoder(ctx);
    for (qsizetype i = 0; i < count; ++i) {
        ctx.setArgument(i + 1);
        if (!decoder.decode(typeInfo(types[i]), array.at(i), out[i]))
            return false;
    }
    return true;
}

bool decodeValue(QByteArrayView body, QMetaType type, void *out, QString *error)
{
    DecodeContext ctx(error);
    const qsizetype start = firstNonSpace(body);
    if (start < 0) {
        ctx.setSubject(QStringLiteral("response body"));
        return ctx.fail(QStringLiteral("empty, expected a value"));
    }
    const char first = body.at(start);
    QJsonValue value;
    ctx.setSubject(QStringLiteral("response body"));
    if (!parse(body, &value, first != '[' && first != '{', ctx))
        return false;
    ctx.setSubject(QString());
    return Decoder(ctx).decode(typeInfo(type), value, out);
}

} // namespace Json
} // namespace MarshalPrivate
} // namespace Tomato

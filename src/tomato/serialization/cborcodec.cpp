// SPDX-License-Identifier: Apache-2.0
// The Binary serialization: CBOR (RFC 8949) through Qt's streaming reader and writer, driven
// by the cached TypeInfo of each value, so that no QCborValue tree is ever built.
// docs/SERIALIZATION.md is the specification of what is written and accepted here.
#include <tomato/serialization/typeinfo_p.h>

#include <QtCore/QBuffer>
#include <QtCore/QCborStreamReader>
#include <QtCore/QCborStreamWriter>
#include <QtCore/QDateTime>
#include <QtCore/QUuid>
#include <QtCore/QVariant>

#include <cmath>
#include <limits>

namespace Tomato {
namespace MarshalPrivate {
namespace Cbor {

namespace {

using Kind = TypeInfo::Kind;

// Writes values into one QCborStreamWriter. Lives for one encode call.
class Encoder
{
public:
    explicit Encoder(QCborStreamWriter &writer) : m_writer(writer) { }

    void encode(const TypeInfo *info, const void *data)
    {
        if (!data) {
            m_writer.appendNull();
            return;
        }
        switch (info->kind) {
        case Kind::Unsupported:
        case Kind::Null:
            m_writer.appendNull();
            return;
        case Kind::Bool:
            m_writer.append(*static_cast<const bool *>(data));
            return;
        case Kind::Signed:
        case Kind::Unsigned:
        case Kind::Enum: {
            const WireInteger v = loadInteger(info, data);
            if (v.negative)
                m_writer.append(-1 - qint64(v.magnitude)); // a C++ integer always fits qint64
            else
                m_writer.append(quint64(v.magnitude));
            return;
        }
        case Kind::Float:
            m_writer.append(*static_cast<const float *>(data));
            return;
        case Kind::Double:
            m_writer.append(*static_cast<const double *>(data));
            return;
        case Kind::String:
            m_writer.append(QStringView(*static_cast<const QString *>(data)));
            return;
        case Kind::Bytes:
            m_writer.append(*static_cast<const QByteArray *>(data));
            return;
        case Kind::DateTime: {
            const auto &dt = *static_cast<const QDateTime *>(data);
            const QString text = dt.isValid() ? dateTimeToWire(dt) : QString();
            if (text.isEmpty()) {
                m_writer.appendNull();
                return;
            }
            m_writer.append(QCborKnownTags::DateTimeString);
            m_writer.append(QStringView(text));
            return;
        }
        case Kind::Uuid:
            m_writer.append(QCborKnownTags::Uuid);
            m_writer.append(static_cast<const QUuid *>(data)->toRfc4122());
            return;
        case Kind::Variant:
            encodeVariant(*static_cast<const QVariant *>(data));
            return;
        case Kind::Gadget:
            encodeGadget(info, data);
            return;
        case Kind::Sequence:
            encodeSequence(info, data);
            return;
        case Kind::Map:
            encodeMap(info, data);
            return;
        }
    }

private:
    void encodeVariant(const QVariant &v)
    {
        if (!v.isValid()) {
            m_writer.appendNull();
            return;
        }
        const TypeInfo *info = typeInfo(v.metaType());
        if (info->kind == Kind::Unsupported)
            warnUnsupportedVariant(v.metaType());
        encode(info, v.constData());
    }

    void encodeGadget(const TypeInfo *info, const void *gadget)
    {
        m_writer.startMap(quint64(info->properties.size()));
        for (const PropertyInfo &p : info->properties) {
            m_writer.append(QStringView(p.name));
            const QVariant v = p.property.readOnGadget(gadget);
            if (p.isVariant)
                encode(p.type, &v);
            else if (v.metaType() == p.type->type)
                encode(p.type, v.constData());
            else
                m_writer.appendNull(); // cannot happen with moc'd properties; never misread memory
        }
        m_writer.endMap();
    }

    void encodeSequence(const TypeInfo *info, const void *container)
    {
        const QMetaSequence &seq = info->sequence;
        ScratchValue element(info->element->type);
        if (info->sequenceIndexed) {
            const qsizetype size = seq.size(container);
            m_writer.startArray(quint64(size));
            for (qsizetype i = 0; i < size; ++i) {
                seq.valueAtIndex(container, i, element.data());
                encode(info->element, element.data());
            }
            m_writer.endArray();
            return;
        }
        if (seq.hasSize())
            m_writer.startArray(quint64(seq.size(container)));
        else
            m_writer.startArray();
        void *it = seq.constBegin(container);
        void *end = seq.constEnd(container);
        for (; !seq.compareConstIterator(it, end); seq.advanceConstIterator(it, 1)) {
            seq.valueAtConstIterator(it, element.data());
            encode(info->element, element.data());
        }
        seq.destroyConstIterator(it);
        seq.destroyConstIterator(end);
        m_writer.endArray();
    }

    void encodeMap(const TypeInfo *info, const void *container)
    {
        const QMetaAssociation &assoc = info->association;
        if (assoc.hasSize())
            m_writer.startMap(quint64(assoc.size(container)));
        else
            m_writer.startMap();
        ScratchValue mapped(info->element->type);
        QString key;
        void *it = assoc.constBegin(container);
        void *end = assoc.constEnd(container);
        for (; !assoc.compareConstIterator(it, end); assoc.advanceConstIterator(it, 1)) {
            assoc.keyAtConstIterator(it, &key);
            assoc.mappedAtConstIterator(it, mapped.data());
            m_writer.append(QStringView(key));
            encode(info->element, mapped.data());
        }
        assoc.destroyConstIterator(it);
        assoc.destroyConstIterator(end);
        m_writer.endMap();
    }

    QCborStreamWriter &m_writer;
};

// Reads one body with a QCborStreamReader. Every step checks the reader's error state: Qt's
// reader reports truncation and corruption only through lastError(), and some of its calls
// (hasNext(), leaveContainer()) answer as if all were well when it has already failed.
class Decoder
{
public:
    Decoder(QByteArrayView body, DecodeContext &ctx)
        : m_reader(body.data(), body.size()), m_size(body.size()), m_ctx(ctx)
    {
    }

    QCborStreamReader &reader() { return m_reader; }

    // False (with the error set) when the reader has failed.
    bool readerOk()
    {
        const QCborError error = m_reader.lastError();
        if (error.c == QCborError::NoError)
            return true;
        if (error.c == QCborError::EndOfFile)
            return m_ctx.fail(QStringLiteral("truncated CBOR (more bytes needed)"));
        return m_ctx.fail(QStringLiteral("invalid CBOR at byte %1: %2")
                                  .arg(m_reader.currentOffset())
                                  .arg(error.toString()));
    }

    // False when there is no item to read at the current position.
    bool atItem()
    {
        if (!readerOk())
            return false;
        if (m_reader.isInvalid())
            return m_ctx.fail(QStringLiteral("truncated CBOR (more bytes needed)"));
        return true;
    }

    bool atEnd() { return m_reader.lastError() == QCborError::NoError && m_reader.currentOffset() == m_size; }

    // Moves past the current item. A failure to read the next one is not reported here but
    // where the next one is wanted, so that the error names the right position.
    bool advance()
    {
        m_reader.next();
        return true;
    }

    QString found()
    {
        switch (m_reader.type()) {
        case QCborStreamReader::UnsignedInteger:
        case QCborStreamReader::NegativeInteger: return QStringLiteral("integer");
        case QCborStreamReader::ByteArray: return QStringLiteral("byte string");
        case QCborStreamReader::String: return QStringLiteral("string");
        case QCborStreamReader::Array: return QStringLiteral("array");
        case QCborStreamReader::Map: return QStringLiteral("map");
        case QCborStreamReader::Tag: return QStringLiteral("tag %1").arg(quint64(m_reader.toTag()));
        case QCborStreamReader::SimpleType:
            switch (m_reader.toSimpleType()) {
            case QCborSimpleType::False:
            case QCborSimpleType::True: return QStringLiteral("boolean");
            case QCborSimpleType::Null: return QStringLiteral("null");
            case QCborSimpleType::Undefined: return QStringLiteral("undefined");
            }
            return QStringLiteral("simple value %1").arg(int(m_reader.toSimpleType()));
        case QCborStreamReader::Float16:
        case QCborStreamReader::Float:
        case QCborStreamReader::Double: return QStringLiteral("float");
        case QCborStreamReader::Invalid: break;
        }
        return QStringLiteral("nothing");
    }

    bool decode(const TypeInfo *info, void *out)
    {
        if (!atItem())
            return false;
        switch (info->kind) {
        case Kind::Unsupported:
            return m_ctx.fail(info->reason);
        case Kind::Null:
            if (!m_reader.isNull() && !m_reader.isUndefined())
                return m_ctx.expected(QStringLiteral("null"), found());
            return advance();
        case Kind::Bool:
            if (!m_reader.isBool())
                return m_ctx.expected(QStringLiteral("boolean"), found());
            *static_cast<bool *>(out) = m_reader.toBool();
            return advance();
        case Kind::Signed:
        case Kind::Unsigned:
            return decodeInteger(info, out, QStringLiteral("integer"));
        case Kind::Enum:
            if (m_reader.isString()) {
                QString key;
                return readString(&key) && storeEnumKey(info, key, out, m_ctx);
            }
            return decodeInteger(info, out, QStringLiteral("%1 name or integer").arg(info->typeName()));
        case Kind::Float:
        case Kind::Double: {
            double d = 0;
            if (!readNumber(&d))
                return m_ctx.expected(QStringLiteral("number"), found());
            return advance() && storeFloatingPoint(info, d, out, m_ctx);
        }
        case Kind::String:
            if (!m_reader.isString())
                return m_ctx.expected(QStringLiteral("string"), found());
            return readString(static_cast<QString *>(out));
        case Kind::Bytes:
            if (!m_reader.isByteArray())
                return m_ctx.expected(QStringLiteral("byte string"), found());
            return readBytes(static_cast<QByteArray *>(out));
        case Kind::DateTime:
            return decodeDateTime(static_cast<QDateTime *>(out));
        case Kind::Uuid:
            return decodeUuid(static_cast<QUuid *>(out));
        case Kind::Variant:
            return decodeVariant(static_cast<QVariant *>(out));
        case Kind::Gadget:
            return decodeGadget(info, out);
        case Kind::Sequence:
            return decodeSequence(info, out);
        case Kind::Map:
            return decodeMap(info, out);
        }
        return m_ctx.fail(QStringLiteral("internal error: unknown kind"));
    }

    // Skips one item of any kind, within the depth limit (QCborStreamReader::next() would
    // recurse up to 10000 levels into nested containers on its own).
    bool skip()
    {
        if (!atItem())
            return false;
        while (m_reader.isTag()) { // tags may be chained; follow them without recursion
            if (!advance() || !atItem())
                return false;
        }
        if (!m_reader.isContainer())
            return advance();
        DepthGuard depth(m_ctx);
        if (!depth.ok())
            return false;
        if (!m_reader.enterContainer())
            return readerOk() && m_ctx.fail(QStringLiteral("invalid CBOR container"));
        while (m_reader.hasNext()) {
            if (!skip())
                return false;
        }
        return leaveContainer();
    }

    // After the last element of a container: leaves it, checking that it ended well.
    bool leaveContainer()
    {
        if (!readerOk())
            return false;
        m_reader.leaveContainer();
        return readerOk();
    }

    bool enterContainer()
    {
        if (m_reader.enterContainer())
            return true;
        return readerOk() && m_ctx.fail(QStringLiteral("invalid CBOR container"));
    }

private:
    // Refuses a string whose announced length exceeds what is left of the body before the
    // reader tries to allocate it.
    bool chunkFits()
    {
        if (!m_reader.isString() && !m_reader.isByteArray())
            return true;
        const qsizetype chunk = m_reader.currentStringChunkSize();
        if (chunk > m_size - qsizetype(m_reader.currentOffset()))
            return m_ctx.fail(QStringLiteral("truncated CBOR (string longer than the body)"));
        return true;
    }

    bool readString(QString *out)
    {
        return readChunked(out, [this] { return m_reader.readString(); }, "string");
    }

    bool readBytes(QByteArray *out)
    {
        return readChunked(out, [this] { return m_reader.readByteArray(); }, "byte string");
    }

    // Reads a text or byte string, definite or in chunks, checking each chunk's announced
    // length against what the body still holds before the reader allocates for it.
    template<typename T, typename ReadChunk>
    bool readChunked(T *out, ReadChunk readChunk, const char *what)
    {
        out->clear();
        if (!chunkFits())
            return false;
        auto r = readChunk();
        while (r.status == QCborStreamReader::Ok) {
            if (out->isEmpty())
                *out = std::move(r.data);
            else
                out->append(r.data);
            if (m_reader.lastError() == QCborError::NoError && !chunkFits())
                return false;
            r = readChunk();
        }
        if (r.status == QCborStreamReader::EndOfString)
            return readerOk();
        return readerOk() && m_ctx.fail(QStringLiteral("invalid CBOR %1").arg(QLatin1String(what)));
    }

    // Reads an integer or a float of any width as a double, without advancing.
    bool readNumber(double *out)
    {
        switch (m_reader.type()) {
        case QCborStreamReader::UnsignedInteger:
            *out = double(m_reader.toUnsignedInteger());
            return true;
        case QCborStreamReader::NegativeInteger:
            *out = -1.0 - double(quint64(m_reader.toNegativeInteger()) - 1);
            return true;
        case QCborStreamReader::Float16:
            *out = double(float(m_reader.toFloat16()));
            return true;
        case QCborStreamReader::Float:
            *out = double(m_reader.toFloat());
            return true;
        case QCborStreamReader::Double:
            *out = m_reader.toDouble();
            return true;
        default:
            return false;
        }
    }

    bool decodeInteger(const TypeInfo *info, void *out, const QString &expectedWhat)
    {
        if (m_reader.isUnsignedInteger()) {
            const WireInteger v = WireInteger::fromUnsigned(m_reader.toUnsignedInteger());
            return advance() && storeInteger(info, v, out, m_ctx);
        }
        if (m_reader.isNegativeInteger()) {
            // toNegativeInteger() is the absolute value, 0 standing for 2^64.
            const WireInteger v { true, quint64(m_reader.toNegativeInteger()) - 1 };
            return advance() && storeInteger(info, v, out, m_ctx);
        }
        if (m_reader.isFloat16() || m_reader.isFloat() || m_reader.isDouble()) {
            double d = 0;
            readNumber(&d);
            return advance() && storeIntegralDouble(info, d, out, m_ctx);
        }
        return m_ctx.expected(expectedWhat, found());
    }

    bool decodeDateTime(QDateTime *out)
    {
        if (m_reader.isNull()) {
            *out = QDateTime();
            return advance();
        }
        if (m_reader.isTag()) {
            const QCborTag tag = m_reader.toTag();
            if (tag == QCborTag(QCborKnownTags::UnixTime_t)) {
                if (!advance() || !atItem())
                    return false;
                double seconds = 0;
                if (!readNumber(&seconds))
                    return m_ctx.expected(QStringLiteral("number after tag 1"), found());
                // QDateTime's range is about +-292 million years; refuse what it cannot hold.
                if (!std::isfinite(seconds) || std::fabs(seconds) > 9.0e15)
                    return m_ctx.fail(QStringLiteral("epoch time %1 is out of range").arg(seconds));
                *out = QDateTime::fromMSecsSinceEpoch(qint64(std::llround(seconds * 1000.0)), Qt::UTC);
                return advance();
            }
            if (tag != QCborTag(QCborKnownTags::DateTimeString))
                return m_ctx.expected(QStringLiteral("date-time"), found());
            if (!advance() || !atItem())
                return false;
        }
        if (!m_reader.isString())
            return m_ctx.expected(QStringLiteral("date-time"), found());
        QString text;
        if (!readString(&text))
            return false;
        if (!dateTimeFromWire(text, out))
            return m_ctx.fail(QStringLiteral("invalid date-time '%1'").arg(text.left(64)));
        return true;
    }

    bool decodeUuid(QUuid *out)
    {
        if (m_reader.isTag()) {
            if (m_reader.toTag() != QCborTag(QCborKnownTags::Uuid))
                return m_ctx.expected(QStringLiteral("UUID"), found());
            if (!advance() || !atItem())
                return false;
        }
        if (m_reader.isByteArray()) {
            QByteArray bytes;
            if (!readBytes(&bytes))
                return false;
            if (bytes.size() != 16)
                return m_ctx.fail(QStringLiteral("expected 16-byte UUID, got %1 bytes").arg(bytes.size()));
            *out = QUuid::fromRfc4122(bytes);
            return true;
        }
        if (m_reader.isString()) {
            QString text;
            if (!readString(&text))
                return false;
            if (!uuidFromWire(text, out))
                return m_ctx.fail(QStringLiteral("invalid UUID '%1'").arg(text.left(64)));
            return true;
        }
        return m_ctx.expected(QStringLiteral("UUID"), found());
    }

    bool decodeVariant(QVariant *out)
    {
        // Tags say what a value means; the ones the wire format uses give typed values, any
        // other is ignored and its content decoded as it is.
        while (m_reader.isTag()) {
            const QCborTag tag = m_reader.toTag();
            if (tag == QCborTag(QCborKnownTags::DateTimeString) || tag == QCborTag(QCborKnownTags::UnixTime_t)) {
                QDateTime dt;
                if (!decodeDateTime(&dt))
                    return false;
                *out = dt;
                return true;
            }
            if (tag == QCborTag(QCborKnownTags::Uuid)) {
                QUuid uuid;
                if (!decodeUuid(&uuid))
                    return false;
                *out = QVariant::fromValue(uuid);
                return true;
            }
            if (!advance() || !atItem())
                return false;
        }
        switch (m_reader.type()) {
        case QCborStreamReader::UnsignedInteger: {
            const quint64 u = m_reader.toUnsignedInteger();
            if (u <= quint64(std::numeric_limits<qint64>::max()))
                *out = qint64(u);
            else
                *out = u;
            return advance();
        }
        case QCborStreamReader::NegativeInteger: {
            const quint64 magnitude = quint64(m_reader.toNegativeInteger()) - 1;
            if (magnitude <= quint64(std::numeric_limits<qint64>::max()))
                *out = -1 - qint64(magnitude);
            else
                *out = -1.0 - double(magnitude); // below -2^63: only a double can hold it
            return advance();
        }
        case QCborStreamReader::Float16:
        case QCborStreamReader::Float:
        case QCborStreamReader::Double: {
            double d = 0;
            readNumber(&d);
            *out = d;
            return advance();
        }
        case QCborStreamReader::String: {
            QString s;
            if (!readString(&s))
                return false;
            *out = std::move(s);
            return true;
        }
        case QCborStreamReader::ByteArray: {
            QByteArray b;
            if (!readBytes(&b))
                return false;
            *out = std::move(b);
            return true;
        }
        case QCborStreamReader::SimpleType:
            if (m_reader.isBool()) {
                *out = m_reader.toBool();
                return advance();
            }
            if (m_reader.isNull() || m_reader.isUndefined()) {
                *out = QVariant();
                return advance();
            }
            return m_ctx.fail(QStringLiteral("unsupported %1").arg(found()));
        case QCborStreamReader::Array: {
            DepthGuard depth(m_ctx);
            if (!depth.ok() || !enterContainer())
                return false;
            QVariantList list;
            for (qsizetype i = 0; m_reader.hasNext(); ++i) {
                QVariant element;
                m_ctx.pushIndex(i);
                if (!decodeVariant(&element))
                    return false;
                m_ctx.pop();
                list.append(std::move(element));
            }
            if (!leaveContainer())
                return false;
            *out = std::move(list);
            return true;
        }
        case QCborStreamReader::Map: {
            DepthGuard depth(m_ctx);
            if (!depth.ok() || !enterContainer())
                return false;
            QVariantMap map;
            QString key;
            while (m_reader.hasNext()) {
                if (!readKey(&key))
                    return false;
                QVariant value;
                m_ctx.pushKey(&key);
                if (!decodeVariant(&value))
                    return false;
                m_ctx.pop();
                map.insert(key, std::move(value));
            }
            if (!leaveContainer())
                return false;
            *out = std::move(map);
            return true;
        }
        case QCborStreamReader::Tag: // handled above
        case QCborStreamReader::Invalid:
            break;
        }
        return atItem() && m_ctx.fail(QStringLiteral("unsupported %1").arg(found()));
    }

    bool readKey(QString *key)
    {
        if (!atItem())
            return false;
        if (!m_reader.isString())
            return m_ctx.expected(QStringLiteral("string map key"), found());
        return readString(key);
    }

    bool decodeGadget(const TypeInfo *info, void *gadget)
    {
        if (!m_reader.isMap())
            return m_ctx.expected(QStringLiteral("map"), found());
        DepthGuard depth(m_ctx);
        if (!depth.ok() || !enterContainer())
            return false;
        const QList<PropertyInfo> &properties = info->properties;
        qsizetype next = 0; // keys usually come in declaration order: try that one first
        QString key;
        while (m_reader.hasNext()) {
            if (!readKey(&key))
                return false;
            const PropertyInfo *p = nullptr;
            for (qsizetype n = 0; n < properties.size(); ++n) {
                const qsizetype i = (next + n) % properties.size();
                if (properties.at(i).name == key) {
                    p = &properties.at(i);
                    next = i + 1;
                    break;
                }
            }
            if (!p) { // unknown keys are ignored: a newer peer may send more than we know
                if (!skip())
                    return false;
                continue;
            }
            m_ctx.pushProperty(&p->name);
            // Start from the current value, so that a nested gadget's own defaults survive.
            QVariant v = p->property.readOnGadget(gadget);
            if (!p->isVariant && v.metaType() != p->type->type)
                v = QVariant(p->type->type);
            if (!decode(p->type, p->isVariant ? static_cast<void *>(&v) : v.data()))
                return false;
            if (!p->property.writeOnGadget(gadget, v))
                return m_ctx.fail(QStringLiteral("cannot write property"));
            m_ctx.pop();
        }
        return leaveContainer();
    }

    bool decodeSequence(const TypeInfo *info, void *container)
    {
        if (!m_reader.isArray())
            return m_ctx.expected(QStringLiteral("array"), found());
        DepthGuard depth(m_ctx);
        if (!depth.ok() || !enterContainer())
            return false;
        const QMetaSequence &seq = info->sequence;
        if (seq.canClear()) {
            seq.clear(container);
        } else {
            info->type.destruct(container);
            info->type.construct(container);
        }
        ScratchValue element(info->element->type);
        for (qsizetype i = 0; m_reader.hasNext(); ++i) {
            if (i > 0)
                element.reset();
            m_ctx.pushIndex(i);
            if (!decode(info->element, element.data()))
                return false;
            m_ctx.pop();
            seq.addValue(container, element.data());
        }
        return leaveContainer();
    }

    bool decodeMap(const TypeInfo *info, void *container)
    {
        if (!m_reader.isMap())
            return m_ctx.expected(QStringLiteral("map"), found());
        DepthGuard depth(m_ctx);
        if (!depth.ok() || !enterContainer())
            return false;
        const QMetaAssociation &assoc = info->association;
        if (assoc.canClear()) {
            assoc.clear(container);
        } else {
            info->type.destruct(container);
            info->type.construct(container);
        }
        ScratchValue mapped(info->element->type);
        QString key;
        for (bool first = true; m_reader.hasNext(); first = false) {
            if (!readKey(&key))
                return false;
            if (!first)
                mapped.reset();
            m_ctx.pushKey(&key);
            if (!decode(info->element, mapped.data()))
                return false;
            m_ctx.pop();
            assoc.setMappedAtKey(container, &key, mapped.data()); // a repeated key: the last wins
        }
        return leaveContainer();
    }

    QCborStreamReader m_reader;
    qsizetype m_size;
    DecodeContext &m_ctx;
};

// QCborStreamWriter(QByteArray *) writes from offset 0, over what the array already holds;
// the API promises to append, so the writer gets a buffer opened for appending.
class AppendingWriter
{
public:
    explicit AppendingWriter(QByteArray &out) : m_buffer(&out), m_writer(openForAppend(m_buffer)) { }
    QCborStreamWriter &writer() { return m_writer; }

private:
    static QBuffer *openForAppend(QBuffer &buffer)
    {
        buffer.open(QIODevice::WriteOnly | QIODevice::Append);
        return &buffer;
    }
    QBuffer m_buffer;
    QCborStreamWriter m_writer;
};

// The common scalars written straight into the output, byte for byte what QCborStreamWriter
// writes for them (RFC 8949 heads, definite lengths, UTF-8 with '?' for a lone surrogate, as Qt's
// UTF-8 encoder writes it),
// without the QBuffer and writer that cost three allocations per value.
void appendHead(QByteArray &out, quint8 major, quint64 value)
{
    const char m = char(major << 5);
    if (value < 24) {
        out.append(char(m | char(value)));
    } else if (value <= 0xff) {
        const char b[] = {char(m | 24), char(value)};
        out.append(b, 2);
    } else if (value <= 0xffff) {
        const char b[] = {char(m | 25), char(value >> 8), char(value)};
        out.append(b, 3);
    } else if (value <= 0xffffffffULL) {
        const char b[] = {char(m | 26), char(value >> 24), char(value >> 16), char(value >> 8), char(value)};
        out.append(b, 5);
    } else {
        char b[9] = {char(m | 27)};
        for (int i = 0; i < 8; ++i)
            b[1 + i] = char(value >> (56 - 8 * i));
        out.append(b, 9);
    }
}

void appendText(QByteArray &out, QStringView text)
{
    const char16_t *p = text.utf16();
    const qsizetype n = text.size();
    auto isHigh = [](char16_t u) { return u >= 0xD800 && u < 0xDC00; };
    auto isLow = [](char16_t u) { return u >= 0xDC00 && u < 0xE000; };
    quint64 bytes = 0;
    for (qsizetype i = 0; i < n; ++i) {
        const char16_t u = p[i];
        if (u < 0x80)
            bytes += 1;
        else if (u < 0x800)
            bytes += 2;
        else if (isHigh(u) && i + 1 < n && isLow(p[i + 1]))
            bytes += 4, ++i;
        else if (u >= 0xD800 && u < 0xE000)
            bytes += 1; // a lone surrogate: '?'
        else
            bytes += 3;
    }
    appendHead(out, 3, bytes);
    const qsizetype at = out.size();
    out.resize(at + qsizetype(bytes));
    auto *o = reinterpret_cast<uchar *>(out.data() + at);
    for (qsizetype i = 0; i < n; ++i) {
        char32_t c = p[i];
        if (c < 0x80) {
            *o++ = uchar(c);
            continue;
        }
        if (isHigh(char16_t(c)) && i + 1 < n && isLow(p[i + 1]))
            c = 0x10000 + ((c - 0xD800) << 10) + (p[++i] - 0xDC00);
        else if (c >= 0xD800 && c < 0xE000) {
            *o++ = uchar('?');
            continue;
        }
        if (c < 0x800) {
            *o++ = uchar(0xC0 | (c >> 6));
        } else if (c < 0x10000) {
            *o++ = uchar(0xE0 | (c >> 12));
            *o++ = uchar(0x80 | ((c >> 6) & 0x3F));
        } else {
            *o++ = uchar(0xF0 | (c >> 18));
            *o++ = uchar(0x80 | ((c >> 12) & 0x3F));
            *o++ = uchar(0x80 | ((c >> 6) & 0x3F));
        }
        *o++ = uchar(0x80 | (c & 0x3F));
    }
}

bool isPlainScalar(const TypeInfo *info, const void *data)
{
    if (!data)
        return false;
    switch (info->kind) {
    case Kind::Bool: case Kind::Signed: case Kind::Unsigned: case Kind::Enum: case Kind::String: case Kind::Bytes:
        return true;
    default:
        return false;
    }
}

void appendScalar(const TypeInfo *info, const void *data, QByteArray &out)
{
    switch (info->kind) {
    case Kind::Bool:
        out.append(char(*static_cast<const bool *>(data) ? 0xF5 : 0xF4));
        return;
    case Kind::Signed:
    case Kind::Unsigned:
    case Kind::Enum: {
        const WireInteger v = loadInteger(info, data);
        appendHead(out, v.negative ? 1 : 0, v.magnitude);
        return;
    }
    case Kind::String:
        appendText(out, QStringView(*static_cast<const QString *>(data)));
        return;
    case Kind::Bytes: {
        const QByteArray &bytes = *static_cast<const QByteArray *>(data);
        appendHead(out, 2, quint64(bytes.size()));
        out.append(bytes);
        return;
    }
    default:
        Q_UNREACHABLE();
    }
}

// The same scalars read straight from the body when they are well-formed and of the expected
// type, ASCII text only: anything else (a wrong type, an indefinite length, a tag, UTF-8 beyond
// ASCII, an integer out of range) returns false, and the full decoder reads the body again from
// its start and says what is wrong, exactly as it always did.
bool readHead(const uchar *&p, const uchar *end, quint8 *major, quint64 *value)
{
    if (p >= end)
        return false;
    const uchar initial = *p++;
    *major = initial >> 5;
    const uchar extra = initial & 0x1f;
    if (extra < 24) {
        *value = extra;
        return true;
    }
    const int n = extra == 24 ? 1 : extra == 25 ? 2 : extra == 26 ? 4 : extra == 27 ? 8 : 0;
    if (n == 0 || end - p < n)
        return false;
    quint64 v = 0;
    for (int i = 0; i < n; ++i)
        v = (v << 8) | *p++;
    *value = v;
    return true;
}

// A byte string at least this long that ends the body takes over the body's buffer (see
// Marshal::decodeValue) instead of being copied out of it; encoded as a value, it is sent
// from its own buffer after the frame's head (Marshal::encodeValue's `tail`).
constexpr quint64 TakeOverAtLeast = 64 << 10;

bool readPlainScalar(const TypeInfo *info, const uchar *&p, const uchar *end, void *out, QByteArray *owner)
{
    quint8 major = 0;
    quint64 value = 0;
    switch (info->kind) {
    case Kind::Bool:
        if (p >= end || (*p != 0xF4 && *p != 0xF5))
            return false;
        *static_cast<bool *>(out) = *p++ == 0xF5;
        return true;
    case Kind::Signed:
    case Kind::Unsigned: {
        if (!readHead(p, end, &major, &value) || major > 1)
            return false;
        QString unused; // only written when the value does not fit, and then the full decoder says so
        DecodeContext ctx(&unused);
        return storeInteger(info, WireInteger{major == 1, value}, out, ctx);
    }
    case Kind::String: {
        if (!readHead(p, end, &major, &value) || major != 3 || value > quint64(end - p))
            return false;
        for (quint64 i = 0; i < value; ++i) {
            if (p[i] >= 0x80)
                return false;
        }
        *static_cast<QString *>(out) = QString::fromLatin1(reinterpret_cast<const char *>(p), qsizetype(value));
        p += value;
        return true;
    }
    case Kind::Bytes:
        if (!readHead(p, end, &major, &value) || major != 2 || value > quint64(end - p))
            return false;
        if (owner && value >= TakeOverAtLeast && p + value == end
            && reinterpret_cast<const uchar *>(owner->constData()) + owner->size() == end) {
            // Removing from the front of an unshared QByteArray only moves its start.
            QByteArray taken = std::move(*owner);
            taken.remove(0, qsizetype(reinterpret_cast<const char *>(p) - taken.constData()));
            *static_cast<QByteArray *>(out) = std::move(taken);
            p = end;
            return true;
        }
        *static_cast<QByteArray *>(out) = QByteArray(reinterpret_cast<const char *>(p), qsizetype(value));
        p += value;
        return true;
    default:
        return false;
    }
}

bool readPlainArguments(QByteArrayView body, const QMetaType *types, void *const *out, qsizetype count,
                        QByteArray *owner)
{
    const auto *p = reinterpret_cast<const uchar *>(body.data());
    const auto *end = p + body.size();
    quint8 major = 0;
    quint64 n = 0;
    if (!readHead(p, end, &major, &n) || major != 4 || n != quint64(count))
        return false;
    for (qsizetype i = 0; i < count; ++i) {
        if (!readPlainScalar(typeInfo(types[i]), p, end, out[i], i == count - 1 ? owner : nullptr))
            return false;
    }
    return p == end;
}

} // namespace

void encodeArguments(const ValueRef *values, qsizetype count, QByteArray &out, QByteArray *tail)
{
    bool plain = true;
    for (qsizetype i = 0; i < count && plain; ++i)
        plain = isPlainScalar(typeInfo(values[i].type), values[i].data);
    if (plain) {
        appendHead(out, 4, quint64(count));
        for (qsizetype i = 0; i + 1 < count; ++i)
            appendScalar(typeInfo(values[i].type), values[i].data, out);
        if (count > 0)
            encodeValue(values[count - 1], out, tail); // a large byte array last: not copied
        return;
    }
    AppendingWriter w(out);
    Encoder encoder(w.writer());
    w.writer().startArray(quint64(count));
    for (qsizetype i = 0; i < count; ++i) {
        const TypeInfo *info = typeInfo(values[i].type);
        if (info->kind == Kind::Unsupported)
            warnUnsupportedVariant(values[i].type);
        encoder.encode(info, values[i].data);
    }
    w.writer().endArray();
}

void encodeValue(ValueRef value, QByteArray &out, QByteArray *tail)
{
    const TypeInfo *info = typeInfo(value.type);
    // Only an array that owns its bytes: one made with fromRawData() may be freed once the
    // call has been made, while the tail lives on until the call ends.
    if (const auto *bytes = static_cast<const QByteArray *>(value.data);
        tail && bytes && info->kind == Kind::Bytes && quint64(bytes->size()) >= TakeOverAtLeast
        && const_cast<QByteArray *>(bytes)->data_ptr().isMutable()) { // Qt 6.4: no const data_ptr()
        *tail = *bytes; // shared, not copied
        appendHead(out, 2, quint64(tail->size()));
        return;
    }
    if (isPlainScalar(info, value.data))
        return appendScalar(info, value.data, out);
    AppendingWriter w(out);
    if (info->kind == Kind::Unsupported)
        warnUnsupportedVariant(value.type);
    Encoder(w.writer()).encode(info, value.data);
}

bool decodeArguments(QByteArrayView body, const QMetaType *types, void *const *out,
                     qsizetype count, QString *error, QByteArray *owner)
{
    if (readPlainArguments(body, types, out, count, owner))
        return true;
    DecodeContext ctx(error);
    ctx.setSubject(QStringLiteral("request body"));
    if (body.isEmpty())
        return ctx.fail(QStringLiteral("empty, expected an array of %1 arguments").arg(count));
    Decoder decoder(body, ctx);
    QCborStreamReader &reader = decoder.reader();
    if (!decoder.atItem())
        return false;
    if (!reader.isArray())
        return ctx.expected(QStringLiteral("array of %1 arguments").arg(count), decoder.found());
    if (reader.isLengthKnown() && reader.length() != quint64(count))
        return ctx.fail(QStringLiteral("expected %1 arguments, got %2").arg(count).arg(reader.length()));
    // Entering reads the first element's head, so a failure there is that argument's.
    if (count > 0)
        ctx.setArgument(1);
    if (!decoder.enterContainer())
        return false;
    for (qsizetype i = 0; i < count; ++i) {
        ctx.setArgument(i + 1);
        if (!reader.hasNext()) {
            if (!decoder.readerOk())
                return false;
            ctx.setSubject(QStringLiteral("request body"));
            return ctx.fail(QStringLiteral("expected %1 arguments, got %2").arg(count).arg(i));
        }
        if (!decoder.decode(typeInfo(types[i]), out[i]))
            return false;
    }
    ctx.setSubject(QStringLiteral("request body"));
    if (reader.hasNext())
        return ctx.fail(QStringLiteral("expected %1 arguments, got more").arg(count));
    if (!decoder.leaveContainer())
        return false;
    if (!decoder.atEnd())
        return ctx.fail(QStringLiteral("unexpected data after the arguments"));
    return true;
}

bool decodeValue(QByteArrayView body, QMetaType type, void *out, QString *error, QByteArray *owner)
{
    {
        const auto *p = reinterpret_cast<const uchar *>(body.data());
        const auto *end = p + body.size();
        if (readPlainScalar(typeInfo(type), p, end, out, owner) && p == end)
            return true;
    }
    DecodeContext ctx(error);
    if (body.isEmpty()) {
        ctx.setSubject(QStringLiteral("response body"));
        return ctx.fail(QStringLiteral("empty, expected a value"));
    }
    Decoder decoder(body, ctx);
    if (!decoder.decode(typeInfo(type), out))
        return false;
    ctx.setSubject(QStringLiteral("response body"));
    if (!decoder.atEnd())
        return ctx.fail(QStringLiteral("unexpected data after the value"));
    return true;
}

} // namespace Cbor
} // namespace MarshalPrivate
} // namespace Tomato

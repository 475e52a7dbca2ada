// SPDX-License-Identifier: Apache-2.0
#include <tomato/serialization/marshal_p.h>
#include "testtypes.h"

#include <QtCore/QCborStreamWriter>
#include <QtCore/QCborValue>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QMetaMethod>
#include <QtCore/QRandomGenerator>
#include <QtCore/QSemaphore>
#include <QtCore/QSet>
#include <QtCore/QThread>
#include <QtCore/QUuid>
#include <QtTest/QtTest>

#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <vector>

using Tomato::Serialization;
using Tomato::ValueRef;
namespace Marshal = Tomato::Marshal;

namespace {

const Serialization bothSerializations[] = { Serialization::Binary, Serialization::Json };

QByteArray rowName(Serialization s, const char *name)
{
    return Tomato::serializationName(s).toLatin1() + ": " + name;
}

// Adds the row once per serialization, with the serialization as the first column.
template <typename... Args>
void addRows(const char *name, const Args &...args)
{
    for (Serialization s : bothSerializations)
        ((QTest::newRow(rowName(s, name).constData()) << s) << ... << args);
}

// An invalid QVariant stands for a null QVariant argument.
ValueRef refTo(const QVariant &v)
{
    if (!v.isValid())
        return { QMetaType::fromType<QVariant>(), &v };
    return { v.metaType(), v.constData() };
}

QByteArray encodeValue(Serialization s, const QVariant &v)
{
    QByteArray out;
    Marshal::encodeValue(s, refTo(v), out);
    return out;
}

QByteArray encodeArguments(Serialization s, const QVariantList &args)
{
    QList<ValueRef> refs;
    for (const QVariant &a : args)
        refs.append(refTo(a));
    QByteArray out;
    Marshal::encodeArguments(s, refs.constData(), refs.size(), out);
    return out;
}

// Storage for decoded values: a default value of each type, or a bare QVariant for QVariant.
struct Targets
{
    explicit Targets(const QList<QMetaType> &types) : types(types)
    {
        values.reserve(types.size());
        for (QMetaType t : types)
            values.append(t == QMetaType::fromType<QVariant>() ? QVariant() : QVariant(t));
        for (qsizetype i = 0; i < values.size(); ++i)
            pointers.append(types.at(i) == QMetaType::fromType<QVariant>() ? static_cast<void *>(&values[i])
                                                                             : values[i].data());
    }
    QList<QMetaType> types;
    QVariantList values;
    QList<void *> pointers;
};

bool decodeArguments(Serialization s, QByteArrayView body, const QList<QMetaType> &types,
                     QVariantList *values, QString *error)
{
    Targets targets(types);
    const bool ok = Marshal::decodeArguments(s, body, targets.types.constData(),
                                             targets.pointers.constData(), types.size(), error);
    if (values)
        *values = targets.values;
    return ok;
}

bool decodeValue(Serialization s, QByteArrayView body, QMetaType type, QVariant *value, QString *error)
{
    Targets targets({ type });
    const bool ok = Marshal::decodeValue(s, body, type, targets.pointers.at(0), error);
    if (value)
        *value = targets.values.at(0);
    return ok;
}

// The CBOR equivalent of a JSON text, so that one input can be tried in both serializations.
QByteArray cborFromJson(const QByteArray &json)
{
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    if (doc.isObject())
        return QCborValue::fromJsonValue(doc.object()).toCbor();
    if (doc.isArray())
        return QCborValue::fromJsonValue(doc.array()).toCbor();
    const QJsonArray wrapped = QJsonDocument::fromJson('[' + json + ']').array();
    Q_ASSERT(wrapped.size() == 1);
    return QCborValue::fromJsonValue(wrapped.at(0)).toCbor();
}

QByteArray bodyFromJson(Serialization s, const QByteArray &json)
{
    return s == Serialization::Json ? json : cborFromJson(json);
}

QByteArray cborInteger(bool negative, quint64 magnitude)
{
    QByteArray bytes;
    QCborStreamWriter writer(&bytes);
    if (negative)
        writer.append(QCborNegativeInteger(magnitude + 1)); // -1 - magnitude
    else
        writer.append(magnitude);
    return bytes;
}

Item makeItem(const QString &name, int count, Item::Color color)
{
    Item i;
    i.name = name;
    i.count = count;
    i.color = color;
    return i;
}

Order makeOrder()
{
    Order o;
    o.id = QStringLiteral("order-1 ✓");
    o.items = { makeItem(QStringLiteral("apple"), 3, Item::Color::Green),
                makeItem(QString(), 0, Item::Color::Blue),
                makeItem(QStringLiteral("日本"), std::numeric_limits<int>::min(), Item::Color::Red) };
    o.byName = { { QStringLiteral("a"), makeItem(QStringLiteral("a"), 1, Item::Color::Red) },
                 { QStringLiteral("ключ"), makeItem(QStringLiteral("k"), 2, Item::Color::Green) } };
    o.primary = makeItem(QStringLiteral("primary"), 42, Item::Color::Blue);
    o.extra = { { QStringLiteral("flag"), true },
                { QStringLiteral("list"), QVariantList { qint64(1), QStringLiteral("two"), QVariantList {} } },
                { QStringLiteral("map"), QVariantMap { { QStringLiteral("x"), 1.25 } } } };
    o.created = QDateTime(QDate(2024, 2, 29), QTime(23, 59, 59, 999), Qt::UTC);
    o.shape = Shapes::Kind::Triangle;
    o.note = QStringLiteral("fragile");
    return o;
}

TreeNode makeTree(int depth)
{
    TreeNode node;
    node.label = QStringLiteral("level %1").arg(depth);
    for (int i = 0; depth > 0 && i < 2; ++i)
        node.children.append(makeTree(depth - 1));
    return node;
}

QByteArray randomBytes(QRandomGenerator &random, qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (char &c : bytes)
        c = char(random.bounded(256));
    return bytes;
}

} // namespace

class tst_Marshal : public QObject
{
    Q_OBJECT

private slots:
    void valuesSurviveARoundTrip_data();
    void valuesSurviveARoundTrip();
    void nonFiniteFloatingPointSurvivesARoundTrip_data();
    void nonFiniteFloatingPointSurvivesARoundTrip();
    void variantsDecodeToNaturalTypes_data();
    void variantsDecodeToNaturalTypes();
    void variantsAreEncodedByTheirDynamicType_data();
    void variantsAreEncodedByTheirDynamicType();
    void scalarsAreWrittenAsQCborStreamWriterWritesThem_data();
    void scalarsAreWrittenAsQCborStreamWriterWritesThem();
    void aLargeTrailingByteArrayTakesOverTheBody();
    void aLargeTrailingByteArrayIsSentFromItsOwnBuffer();
    void binaryBodiesHaveTheDocumentedBytes_data();
    void binaryBodiesHaveTheDocumentedBytes();
    void jsonBodiesHaveTheDocumentedText_data();
    void jsonBodiesHaveTheDocumentedText();
    void wrongTypesAreReportedWithTheirPosition_data();
    void wrongTypesAreReportedWithTheirPosition();
    void integersAreCheckedAgainstTheTargetRange_data();
    void integersAreCheckedAgainstTheTargetRange();
    void enumsAcceptNamesAndNumbers_data();
    void enumsAcceptNamesAndNumbers();
    void unsupportedTypesAreReportedWithAReason_data();
    void unsupportedTypesAreReportedWithAReason();
    void supportedTypesHaveNoReason_data();
    void supportedTypesHaveNoReason();
    void typesKnownOnlyFromMocMetadataRoundTrip();
    void missingPropertiesKeepDefaultsAndUnknownKeysAreIgnored_data();
    void missingPropertiesKeepDefaultsAndUnknownKeysAreIgnored();
    void decodingReplacesTheContentsOfContainers_data();
    void decodingReplacesTheContentsOfContainers();
    void encodingAppendsToWhatIsAlreadyThere_data();
    void encodingAppendsToWhatIsAlreadyThere();
    void malformedRequestBodiesFailCleanly_data();
    void malformedRequestBodiesFailCleanly();
    void malformedResultBodiesFailCleanly_data();
    void malformedResultBodiesFailCleanly();
    void nestingBeyondTheLimitIsRefused_data();
    void nestingBeyondTheLimitIsRefused();
    void everyTruncationOfAValidBodyFails_data();
    void everyTruncationOfAValidBodyFails();
    void randomAndMutatedInputNeverCrashes_data();
    void randomAndMutatedInputNeverCrashes();
    void firstUseOnManyThreadsAtOnceIsSafe();
    void serializationNamesAreParsed_data();
    void serializationNamesAreParsed();
};

void tst_Marshal::valuesSurviveARoundTrip_data()
{
    QTest::addColumn<Serialization>("serialization");
    QTest::addColumn<QVariant>("value");

    addRows("bool true", QVariant(true));
    addRows("bool false", QVariant(false));
    addRows("qint8 min", QVariant::fromValue(std::numeric_limits<qint8>::min()));
    addRows("qint8 max", QVariant::fromValue(std::numeric_limits<qint8>::max()));
    addRows("quint8 max", QVariant::fromValue(std::numeric_limits<quint8>::max()));
    addRows("qint16 min", QVariant::fromValue(std::numeric_limits<qint16>::min()));
    addRows("quint16 max", QVariant::fromValue(std::numeric_limits<quint16>::max()));
    addRows("int min", QVariant::fromValue(std::numeric_limits<int>::min()));
    addRows("int max", QVariant::fromValue(std::numeric_limits<int>::max()));
    addRows("uint max", QVariant::fromValue(std::numeric_limits<uint>::max()));
    addRows("long min", QVariant::fromValue(std::numeric_limits<long>::min()));
    addRows("ulong max", QVariant::fromValue(std::numeric_limits<ulong>::max()));
    addRows("qint64 min", QVariant::fromValue(std::numeric_limits<qint64>::min()));
    addRows("qint64 max", QVariant::fromValue(std::numeric_limits<qint64>::max()));
    addRows("quint64 max", QVariant::fromValue(std::numeric_limits<quint64>::max()));
    addRows("quint64 just above qint64", QVariant::fromValue(quint64(std::numeric_limits<qint64>::max()) + 1));
    addRows("char", QVariant::fromValue('x'));
    addRows("signed char min", QVariant::fromValue(std::numeric_limits<signed char>::min()));
    addRows("char16_t max", QVariant::fromValue(std::numeric_limits<char16_t>::max()));
    addRows("char32_t max", QVariant::fromValue(std::numeric_limits<char32_t>::max()));
    addRows("float 0.1", QVariant::fromValue(0.1f));
    addRows("float max", QVariant::fromValue(std::numeric_limits<float>::max()));
    addRows("float lowest", QVariant::fromValue(std::numeric_limits<float>::lowest()));
    addRows("float smallest denormal", QVariant::fromValue(std::numeric_limits<float>::denorm_min()));
    addRows("double 0.1", QVariant(0.1));
    addRows("double max", QVariant(std::numeric_limits<double>::max()));
    addRows("double smallest denormal", QVariant(std::numeric_limits<double>::denorm_min()));
    addRows("double -1e-300", QVariant(-1e-300));
    addRows("double 2^53 + 2", QVariant(9007199254740994.0));
    addRows("empty string", QVariant(QString()));
    addRows("unicode string", QVariant(QStringLiteral("héllo wörld ✓ 日本語 🍅 \u2028")));
    addRows("string with NULs", QVariant(QString::fromUtf8("a\0b\0", 4)));
    addRows("control characters", QVariant(QStringLiteral("tab\t newline\n quote\" backslash\\ \x01")));
    addRows("long string", QVariant(QString(100000, QLatin1Char('x'))));
    addRows("empty bytes", QVariant(QByteArray()));
    addRows("binary bytes", QVariant(QByteArray("\x00\xff\x80\x01\x00", 5)));
    {
        QRandomGenerator random(42);
        addRows("large bytes", QVariant(randomBytes(random, 70000)));
    }
    addRows("date-time in UTC", QVariant(QDateTime(QDate(2024, 2, 29), QTime(23, 59, 59, 999), Qt::UTC)));
    addRows("date-time with an offset", QVariant(QDateTime(QDate(1999, 12, 31), QTime(22, 0), Qt::OffsetFromUTC, -5 * 3600)));
    addRows("invalid date-time", QVariant(QDateTime()));
    addRows("uuid", QVariant::fromValue(QUuid(QStringLiteral("{12345678-9abc-def0-1234-56789abcdef0}"))));
    addRows("null uuid", QVariant::fromValue(QUuid()));
    addRows("string list", QVariant(QStringList { QStringLiteral("a"), QString(), QStringLiteral("ü") }));
    addRows("empty int list", QVariant::fromValue(QList<int>()));
    addRows("int list", QVariant::fromValue(QList<int> { std::numeric_limits<int>::min(), 0, std::numeric_limits<int>::max() }));
    addRows("nested lists", QVariant::fromValue(QList<QList<qint8>> { { -128, 127 }, {}, { 0 } }));
    addRows("byte array list", QVariant::fromValue(QByteArrayList { QByteArray("\0", 1), QByteArray() }));
    addRows("std::vector", QVariant::fromValue(std::vector<double> { 1.5, -2.25 }));
    addRows("set, read through iterators", QVariant::fromValue(QSet<QString> { QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c") }));
    addRows("std::map", QVariant::fromValue(std::map<QString, int> { { QStringLiteral("a"), 1 }, { QStringLiteral("b"), -1 } }));
    addRows("list of gadgets", QVariant::fromValue(makeOrder().items));
    addRows("map of gadgets", QVariant::fromValue(makeOrder().byName));
    addRows("hash of lists", QVariant::fromValue(QHash<QString, QList<int>> { { QStringLiteral("a"), { 1, 2 } }, { QStringLiteral("b"), {} } }));
    addRows("map with unicode and empty keys", QVariant::fromValue(QMap<QString, int> { { QStringLiteral("ключ"), 1 }, { QString(), 2 } }));
    addRows("nested variant map",
            QVariant(QVariantMap { { QStringLiteral("n"), qint64(1) },
                                   { QStringLiteral("list"), QVariantList { qint64(1), QStringLiteral("two"), QVariantList {}, QVariantMap { { QStringLiteral("deep"), true } } } },
                                   { QStringLiteral("d"), 1.5 },
                                   { QStringLiteral("null"), QVariant() } }));
    addRows("empty variant map", QVariant(QVariantMap()));
    addRows("variant list", QVariant(QVariantList { qint64(-1), QStringLiteral("s"), false, QVariant(), 0.5 }));
    addRows("variant hash", QVariant(QVariantHash { { QStringLiteral("k"), QVariantList { qint64(3) } } }));
    addRows("enum", QVariant::fromValue(Item::Color::Green));
    addRows("negative enum", QVariant::fromValue(Item::Color::Blue));
    addRows("unsigned 8-bit enum", QVariant::fromValue(Settings::Level::High));
    addRows("namespace enum", QVariant::fromValue(Shapes::Kind::Square));
    addRows("enum value without a name", QVariant::fromValue(Settings::Level(7)));
    addRows("gadget", QVariant::fromValue(makeItem(QStringLiteral("x"), 2, Item::Color::Green)));
    addRows("gadget with nested gadgets, lists and maps", QVariant::fromValue(makeOrder()));
    addRows("empty gadget", QVariant::fromValue(Order()));
    addRows("gadget with defaults", QVariant::fromValue(Settings()));
    addRows("recursive gadget", QVariant::fromValue(makeTree(3)));
}

void tst_Marshal::valuesSurviveARoundTrip()
{
    QFETCH(Serialization, serialization);
    QFETCH(QVariant, value);
    QCOMPARE(Marshal::unsupportedReason(value.metaType()), QString());

    const QByteArray body = encodeValue(serialization, value);
    QVariant decoded;
    QString error;
    QVERIFY2(decodeValue(serialization, body, value.metaType(), &decoded, &error), qPrintable(error));
    QCOMPARE(decoded, value);

    // The same value as one argument among others.
    const QByteArray request = encodeArguments(serialization, { QStringLiteral("before"), value, qint64(7) });
    QVariantList arguments;
    QVERIFY2(decodeArguments(serialization, request,
                             { QMetaType::fromType<QString>(), value.metaType(), QMetaType::fromType<qint64>() },
                             &arguments, &error),
             qPrintable(error));
    QCOMPARE(arguments.at(0), QVariant(QStringLiteral("before")));
    QCOMPARE(arguments.at(1), value);
    QCOMPARE(arguments.at(2), QVariant(qint64(7)));
}

void tst_Marshal::nonFiniteFloatingPointSurvivesARoundTrip_data()
{
    QTest::addColumn<Serialization>("serialization");
    QTest::addColumn<double>("value");
    addRows("NaN", std::numeric_limits<double>::quiet_NaN());
    addRows("infinity", std::numeric_limits<double>::infinity());
    addRows("minus infinity", -std::numeric_limits<double>::infinity());
}

void tst_Marshal::nonFiniteFloatingPointSurvivesARoundTrip()
{
    QFETCH(Serialization, serialization);
    QFETCH(double, value);
    const auto same = [](double a, double b) { return std::isnan(a) ? std::isnan(b) : a == b; };
    QString error;

    QVariant d;
    QVERIFY2(decodeValue(serialization, encodeValue(serialization, QVariant(value)), QMetaType::fromType<double>(), &d, &error),
             qPrintable(error));
    QVERIFY(same(d.toDouble(), value));

    QVariant f;
    QVERIFY2(decodeValue(serialization, encodeValue(serialization, QVariant::fromValue(float(value))),
                         QMetaType::fromType<float>(), &f, &error),
             qPrintable(error));
    QVERIFY(same(double(f.value<float>()), value));
}

void tst_Marshal::variantsDecodeToNaturalTypes_data()
{
    QTest::addColumn<Serialization>("serialization");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QVariant>("expected");

    const auto cbor = [](const char *name, const char *hex, const QVariant &expected) {
        QTest::newRow(rowName(Serialization::Binary, name).constData())
                << Serialization::Binary << QByteArray::fromHex(hex) << expected;
    };
    const auto json = [](const char *name, const char *text, const QVariant &expected) {
        QTest::newRow(rowName(Serialization::Json, name).constData())
                << Serialization::Json << QByteArray(text) << expected;
    };

    cbor("small integer", "182a", QVariant(qint64(42)));
    cbor("negative integer", "3863", QVariant(qint64(-100)));
    cbor("integer above qint64", "1bffffffffffffffff", QVariant(std::numeric_limits<quint64>::max()));
    cbor("integer below qint64", "3bffffffffffffffff", QVariant(-18446744073709551616.0));
    cbor("half float", "f93e00", QVariant(1.5));
    cbor("single float", "fa3fc00000", QVariant(1.5));
    cbor("double", "fb3ff8000000000000", QVariant(1.5));
    cbor("text", "6461c3a962", QVariant(QStringLiteral("aéb")));
    cbor("chunked text", "7f616161626163ff", QVariant(QStringLiteral("abc")));
    cbor("bytes", "420001", QVariant(QByteArray("\x00\x01", 2)));
    cbor("true", "f5", QVariant(true));
    cbor("null", "f6", QVariant());
    cbor("undefined", "f7", QVariant());
    cbor("array", "83016161f4", QVariant(QVariantList { qint64(1), QStringLiteral("a"), false }));
    cbor("indefinite array", "9f0102ff", QVariant(QVariantList { qint64(1), qint64(2) }));
    cbor("map", "a2616101616280", QVariant(QVariantMap { { QStringLiteral("a"), qint64(1) }, { QStringLiteral("b"), QVariantList() } }));
    cbor("tag 0 date-time", "c07818323031332d30332d32315432303a30343a30302e3030305a",
         QVariant(QDateTime(QDate(2013, 3, 21), QTime(20, 4), Qt::UTC)));
    cbor("tag 1 epoch time", "c11a514b67b0", QVariant(QDateTime(QDate(2013, 3, 21), QTime(20, 4), Qt::UTC)));
    cbor("tag 37 uuid", "d825501234567812341234123412345678abcd",
         QVariant::fromValue(QUuid(QStringLiteral("12345678-1234-1234-1234-12345678abcd"))));
    cbor("unknown tag is ignored", "d9d9f7182a", QVariant(qint64(42)));

    json("integer", "42", QVariant(qint64(42)));
    json("integral number with a fraction part", "1.0", QVariant(qint64(1)));
    json("fraction", "1.5", QVariant(1.5));
    json("number above qint64", "18446744073709551615", QVariant(18446744073709551615.0));
    json("string", "\"a\\u00e9b\"", QVariant(QStringLiteral("aéb")));
    json("date-time string stays a string", "\"2013-03-21T20:04:00.000Z\"", QVariant(QStringLiteral("2013-03-21T20:04:00.000Z")));
    json("true", "true", QVariant(true));
    json("null", "null", QVariant());
    json("array", "[1,\"a\",false]", QVariant(QVariantList { qint64(1), QStringLiteral("a"), false }));
    json("object", "{\"a\":1,\"b\":[]}", QVariant(QVariantMap { { QStringLiteral("a"), qint64(1) }, { QStringLiteral("b"), QVariantList() } }));
    json("whitespace around a scalar", " \n 7 \t", QVariant(qint64(7)));
}

void tst_Marshal::variantsDecodeToNaturalTypes()
{
    QFETCH(Serialization, serialization);
    QFETCH(QByteArray, body);
    QFETCH(QVariant, expected);
    QVariant decoded;
    QString error;
    QVERIFY2(decodeValue(serialization, body, QMetaType::fromType<QVariant>(), &decoded, &error), qPrintable(error));
    QCOMPARE(decoded, expected);
    QCOMPARE(decoded.metaType(), expected.metaType());
}

void tst_Marshal::variantsAreEncodedByTheirDynamicType_data()
{
    QTest::addColumn<Serialization>("serialization");
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<QVariant>("decoded"); // what decoding into a QVariant gives back

    const QVariantMap itemAsCbor { { QStringLiteral("name"), QStringLiteral("x") },
                                   { QStringLiteral("count"), qint64(2) },
                                   { QStringLiteral("color"), qint64(5) } };
    QVariantMap itemAsJson = itemAsCbor;
    itemAsJson[QStringLiteral("color")] = QStringLiteral("Green");
    const QVariant item = QVariant::fromValue(makeItem(QStringLiteral("x"), 2, Item::Color::Green));
    QTest::newRow("binary: gadget") << Serialization::Binary << item << QVariant(itemAsCbor);
    QTest::newRow("json: gadget") << Serialization::Json << item << QVariant(itemAsJson);

    addRows("int list", QVariant::fromValue(QList<int> { 1, 2 }), QVariant(QVariantList { qint64(1), qint64(2) }));
    addRows("string list", QVariant(QStringList { QStringLiteral("a") }), QVariant(QVariantList { QStringLiteral("a") }));
    addRows("null", QVariant(), QVariant());

    const QDateTime when(QDate(2013, 3, 21), QTime(20, 4), Qt::UTC);
    QTest::newRow("binary: date-time") << Serialization::Binary << QVariant(when) << QVariant(when);
    QTest::newRow("json: date-time") << Serialization::Json << QVariant(when) << QVariant(QStringLiteral("2013-03-21T20:04:00.000Z"));
    QTest::newRow("binary: bytes") << Serialization::Binary << QVariant(QByteArray("\x00\xff", 2)) << QVariant(QByteArray("\x00\xff", 2));
    QTest::newRow("json: bytes") << Serialization::Json << QVariant(QByteArray("\x00\xff", 2)) << QVariant(QStringLiteral("AP8="));
    const QUuid uuid(QStringLiteral("12345678-9abc-def0-1234-56789abcdef0"));
    QTest::newRow("binary: uuid") << Serialization::Binary << QVariant::fromValue(uuid) << QVariant::fromValue(uuid);
    QTest::newRow("json: uuid") << Serialization::Json << QVariant::fromValue(uuid) << QVariant(QStringLiteral("12345678-9abc-def0-1234-56789abcdef0"));
    addRows("unsupported type is sent as null", QVariant(QPoint(1, 2)), QVariant());
    addRows("date-time after the year 9999 is sent as null",
            QVariant(QDateTime(QDate(10000, 1, 1), QTime(0, 0), Qt::UTC)), QVariant());
}

void tst_Marshal::variantsAreEncodedByTheirDynamicType()
{
    QFETCH(Serialization, serialization);
    QFETCH(QVariant, value);
    QFETCH(QVariant, decoded);
    if (value.metaType() == QMetaType::fromType<QPoint>())
        QTest::ignoreMessage(QtWarningMsg, "a QVariant holding QPoint cannot be marshalled; it was sent as null");
    if (value.metaType() == QMetaType::fromType<QDateTime>() && value.toDateTime().date().year() > 9999)
        QTest::ignoreMessage(QtWarningMsg, "a QDateTime in the year 10000 cannot be marshalled; it was sent as null");

    QByteArray body;
    Marshal::encodeValue(serialization, { QMetaType::fromType<QVariant>(), &value }, body);
    QVariant actual;
    QString error;
    QVERIFY2(decodeValue(serialization, body, QMetaType::fromType<QVariant>(), &actual, &error), qPrintable(error));
    QCOMPARE(actual, decoded);
    QCOMPARE(actual.metaType(), decoded.metaType());
}

void tst_Marshal::binaryBodiesHaveTheDocumentedBytes_data()
{
    QTest::addColumn<bool>("request"); // a request body of arguments, or else one result value
    QTest::addColumn<QVariantList>("values");
    QTest::addColumn<QByteArray>("hex");

    QTest::newRow("request [\"hello\", 42]") << true << QVariantList { QStringLiteral("hello"), 42 }
                                             << QByteArray("826568656c6c6f182a");
    QTest::newRow("request without arguments") << true << QVariantList {} << QByteArray("80");
    QTest::newRow("request [true, null, -1, 1.5]") << true << QVariantList { true, QVariant(), -1, 1.5 }
                                                  << QByteArray("84f5f620fb3ff8000000000000");
    QTest::newRow("quint64 max") << false << QVariantList { QVariant::fromValue(std::numeric_limits<quint64>::max()) }
                                 << QByteArray("1bffffffffffffffff");
    QTest::newRow("qint64 min") << false << QVariantList { QVariant::fromValue(std::numeric_limits<qint64>::min()) }
                                << QByteArray("3b7fffffffffffffff");
    QTest::newRow("float") << false << QVariantList { QVariant::fromValue(1.5f) } << QByteArray("fa3fc00000");
    QTest::newRow("bytes") << false << QVariantList { QByteArray("\x01\x02") } << QByteArray("420102");
    QTest::newRow("date-time") << false
                               << QVariantList { QDateTime(QDate(2013, 3, 21), QTime(20, 4), Qt::OffsetFromUTC, 3600) }
                               << QByteArray("c07818323031332d30332d32315431393a30343a30302e3030305a");
    QTest::newRow("invalid date-time") << false << QVariantList { QDateTime() } << QByteArray("f6");
    QTest::newRow("uuid") << false
                          << QVariantList { QVariant::fromValue(QUuid(QStringLiteral("12345678-1234-1234-1234-12345678abcd"))) }
                          << QByteArray("d825501234567812341234123412345678abcd");
    QTest::newRow("gadget") << false << QVariantList { QVariant::fromValue(makeItem(QStringLiteral("x"), 2, Item::Color::Green)) }
                            << QByteArray("a3646e616d65617865636f756e740265636f6c6f7205");
    QTest::newRow("enum") << false << QVariantList { QVariant::fromValue(Item::Color::Blue) } << QByteArray("22");
    QTest::newRow("map") << false << QVariantList { QVariant::fromValue(QMap<QString, int> { { QStringLiteral("a"), 1 }, { QStringLiteral("b"), 2 } }) }
                         << QByteArray("a2616101616202");
    QTest::newRow("string list") << false << QVariantList { QStringList { QStringLiteral("é") } } << QByteArray("8162c3a9");
}

void tst_Marshal::aLargeTrailingByteArrayTakesOverTheBody()
{
    const QByteArray big(100 << 10, 'x');
    // A response that is one large byte array: its bytes stay where they are.
    QByteArray body = encodeValue(Serialization::Binary, big);
    const char *start = body.constData();
    QByteArray value;
    QString error;
    QVERIFY2(Marshal::decodeValue(Serialization::Binary, body, QMetaType::fromType<QByteArray>(), &value, &error, &body),
             qPrintable(error));
    QCOMPARE(value, big);
    QVERIFY(body.isEmpty());
    QVERIFY(value.constData() > start && value.constData() < start + 16); // after the CBOR head only

    // Arguments: only the last one, and only when it ends the body.
    QByteArray request = encodeArguments(Serialization::Binary, {QVariant(7), QVariant(big)});
    start = request.constData();
    int number = 0;
    QByteArray last;
    void *out[] = {&number, &last};
    const QMetaType types[] = {QMetaType::fromType<int>(), QMetaType::fromType<QByteArray>()};
    QVERIFY(Marshal::decodeArguments(Serialization::Binary, request, types, out, 2, &error, &request));
    QCOMPARE(number, 7);
    QCOMPARE(last, big);
    QVERIFY(request.isEmpty());
    QVERIFY(last.constData() > start && last.constData() < start + 16);

    // Small values are copied, and a shared body stays intact for its other holder.
    QByteArray small = encodeValue(Serialization::Binary, QByteArray(1000, 'y'));
    QVERIFY(Marshal::decodeValue(Serialization::Binary, small, QMetaType::fromType<QByteArray>(), &value, &error, &small));
    QCOMPARE(value, QByteArray(1000, 'y'));
    QVERIFY(!small.isEmpty());
    QByteArray shared = encodeValue(Serialization::Binary, big);
    const QByteArray other = shared;
    QVERIFY(Marshal::decodeValue(Serialization::Binary, shared, QMetaType::fromType<QByteArray>(), &value, &error, &shared));
    QCOMPARE(value, big);
    QCOMPARE(other, encodeValue(Serialization::Binary, big));
}

void tst_Marshal::aLargeTrailingByteArrayIsSentFromItsOwnBuffer()
{
    // Encoding with a `tail`: a byte array of 64 KiB or more is not copied; the body holds
    // only its CBOR head, and body + tail are the bytes a copy would have made.
    for (const qsizetype size : {qsizetype(64 << 10) - 1, qsizetype(64 << 10), qsizetype(1 << 20)}) {
        const QByteArray big(size, 'z');
        const bool taken = size >= (64 << 10);
        QByteArray body = "prefix";
        QByteArray tail;
        Marshal::encodeValue(Serialization::Binary, ValueRef{QMetaType::fromType<QByteArray>(), &big}, body, &tail);
        QCOMPARE(body + tail, "prefix" + encodeValue(Serialization::Binary, big));
        QCOMPARE(tail.isEmpty(), !taken);
        if (taken)
            QCOMPARE(tail.constData(), big.constData()); // shared, not copied

        // Arguments: the last one only.
        const int number = 7;
        const ValueRef args[] = {{QMetaType::fromType<int>(), &number}, {QMetaType::fromType<QByteArray>(), &big}};
        body.clear();
        tail.clear();
        Marshal::encodeArguments(Serialization::Binary, args, 2, body, &tail);
        QCOMPARE(body + tail, encodeArguments(Serialization::Binary, {QVariant(7), QVariant(big)}));
        QCOMPARE(tail.isEmpty(), !taken);
        const ValueRef first[] = {{QMetaType::fromType<QByteArray>(), &big}, {QMetaType::fromType<int>(), &number}};
        body.clear();
        tail.clear();
        Marshal::encodeArguments(Serialization::Binary, first, 2, body, &tail);
        QVERIFY(tail.isEmpty());
        QCOMPARE(body, encodeArguments(Serialization::Binary, {QVariant(big), QVariant(7)}));
        // An array over bytes it does not own (fromRawData) is copied: they may go first.
        const QByteArray raw = QByteArray::fromRawData(big.constData(), big.size());
        body.clear();
        Marshal::encodeValue(Serialization::Binary, ValueRef{QMetaType::fromType<QByteArray>(), &raw}, body, &tail);
        QVERIFY(tail.isEmpty());
        QCOMPARE(body, encodeValue(Serialization::Binary, big));
        // JSON has no byte strings to leave out: always copied (Base64).
        body.clear();
        Marshal::encodeValue(Serialization::Json, ValueRef{QMetaType::fromType<QByteArray>(), &big}, body, &tail);
        QVERIFY(tail.isEmpty());
        QCOMPARE(body, encodeValue(Serialization::Json, big));
    }
}

void tst_Marshal::binaryBodiesHaveTheDocumentedBytes()
{
    QFETCH(bool, request);
    QFETCH(QVariantList, values);
    QFETCH(QByteArray, hex);
    const QByteArray body = request ? encodeArguments(Serialization::Binary, values)
                                    : encodeValue(Serialization::Binary, values.at(0));
    QCOMPARE(body.toHex(), hex);
}

void tst_Marshal::jsonBodiesHaveTheDocumentedText_data()
{
    QTest::addColumn<bool>("request");
    QTest::addColumn<QVariantList>("values");
    QTest::addColumn<QByteArray>("text");

    QTest::newRow("request [\"hello\", 42]") << true << QVariantList { QStringLiteral("hello"), 42 }
                                             << QByteArray(R"(["hello",42])");
    QTest::newRow("request without arguments") << true << QVariantList {} << QByteArray("[]");
    QTest::newRow("gadget, members in name order")
            << true << QVariantList { QVariant::fromValue(makeItem(QStringLiteral("x"), 2, Item::Color::Green)) }
            << QByteArray(R"([{"color":"Green","count":2,"name":"x"}])");
    QTest::newRow("64-bit extremes")
            << true << QVariantList { QVariant::fromValue(std::numeric_limits<quint64>::max()), QVariant::fromValue(std::numeric_limits<qint64>::min()), QVariant::fromValue(quint64(5)) }
            << QByteArray(R"(["18446744073709551615",-9223372036854775808,5])");
    QTest::newRow("bytes as base64") << true << QVariantList { QByteArray("\x00\xff\x10", 3), QByteArray("a") }
                                     << QByteArray(R"(["AP8Q","YQ=="])");
    QTest::newRow("date-time in UTC")
            << true << QVariantList { QDateTime(QDate(2013, 3, 21), QTime(20, 4), Qt::OffsetFromUTC, 3600), QDateTime() }
            << QByteArray(R"(["2013-03-21T19:04:00.000Z",null])");
    QTest::newRow("uuid") << true << QVariantList { QVariant::fromValue(QUuid(QStringLiteral("{12345678-1234-1234-1234-12345678ABCD}"))) }
                          << QByteArray(R"(["12345678-1234-1234-1234-12345678abcd"])");
    QTest::newRow("non-finite numbers")
            << true << QVariantList { std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity() }
            << QByteArray(R"(["NaN","Infinity","-Infinity"])");
    QTest::newRow("float in shortest form") << true << QVariantList { QVariant::fromValue(0.1f), 0.1 }
                                            << QByteArray("[0.1,0.1]");
    QTest::newRow("enum without a name") << true << QVariantList { QVariant::fromValue(Settings::Level(7)) }
                                         << QByteArray("[7]");
    QTest::newRow("null argument") << true << QVariantList { QVariant() } << QByteArray("[null]");
    QTest::newRow("string result") << false << QVariantList { QStringLiteral("x\"y") } << QByteArray(R"("x\"y")");
    QTest::newRow("integer result") << false << QVariantList { 42 } << QByteArray("42");
    QTest::newRow("null result") << false << QVariantList { QVariant() } << QByteArray("null");
    QTest::newRow("object result")
            << false << QVariantList { QVariant::fromValue(QMap<QString, bool> { { QStringLiteral("b"), true }, { QStringLiteral("a"), false } }) }
            << QByteArray(R"({"a":false,"b":true})");
}

void tst_Marshal::jsonBodiesHaveTheDocumentedText()
{
    QFETCH(bool, request);
    QFETCH(QVariantList, values);
    QFETCH(QByteArray, text);
    const QByteArray body = request ? encodeArguments(Serialization::Json, values)
                                    : encodeValue(Serialization::Json, values.at(0));
    QCOMPARE(body, text);
}

void tst_Marshal::wrongTypesAreReportedWithTheirPosition_data()
{
    QTest::addColumn<Serialization>("serialization");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QList<QMetaType>>("types");
    QTest::addColumn<QString>("error");

    // One JSON input, tried as JSON and as its CBOR equivalent.
    const auto rows = [](const char *name, const QByteArray &json, const QList<QMetaType> &types,
                         const QString &cborError, const QString &jsonError) {
        QTest::newRow(rowName(Serialization::Binary, name).constData())
                << Serialization::Binary << cborFromJson(json) << types << cborError;
        QTest::newRow(rowName(Serialization::Json, name).constData())
                << Serialization::Json << json << types << jsonError;
    };
    const auto same = [&rows](const char *name, const QByteArray &json, const QList<QMetaType> &types,
                              const QString &error) { rows(name, json, types, error, error); };

    const QMetaType string = QMetaType::fromType<QString>();
    const QMetaType integer = QMetaType::fromType<int>();
    const QMetaType order = QMetaType::fromType<Order>();

    same("string for an integer", R"(["x","y"])", { string, integer },
         QStringLiteral("argument 2: expected integer, got string"));
    rows("integer for a string", R"([1])", { string }, QStringLiteral("argument 1: expected string, got integer"),
         QStringLiteral("argument 1: expected string, got number"));
    same("property deep in a list of gadgets",
         R"([{"id":"o1","items":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":[]}]}])", { order },
         QStringLiteral("argument 1: .items[3].name: expected string, got array"));
    same("gadget in a map", R"([{"byName":{"k1":{"count":"many"}}}])", { order },
         QStringLiteral("argument 1: .byName[\"k1\"].count: expected integer, got string"));
    same("unknown enum key", R"([{"primary":{"color":"Purple"}}])", { order },
         QStringLiteral("argument 1: .primary.color: unknown Item::Color key 'Purple'"));
    same("enum of the wrong type", R"([{"primary":{"color":true}}])", { order },
         QStringLiteral("argument 1: .primary.color: expected Item::Color name or integer, got boolean"));
    same("nested list element", R"([[[1,2],[3,"x"]]])", { QMetaType::fromType<QList<QList<qint8>>>() },
         QStringLiteral("argument 1: [1][1]: expected integer, got string"));
    same("out of range in a list", R"([[1,300]])", { QMetaType::fromType<QList<quint8>>() },
         QStringLiteral("argument 1: [1]: 300 is out of range for uchar (0..255)"));
    same("negative for unsigned", R"([-1])", { QMetaType::fromType<uint>() },
         QStringLiteral("argument 1: -1 is out of range for uint (0..4294967295)"));
    same("fraction for an integer", R"([1.5])", { integer },
         QStringLiteral("argument 1: expected integer, got number 1.5"));
    same("too few arguments", R"(["a"])", { string, integer },
         QStringLiteral("request body: expected 2 arguments, got 1"));
    same("too many arguments", R"(["a",1,2])", { string, integer },
         QStringLiteral("request body: expected 2 arguments, got 3"));
    same("null for a string", R"([null])", { string }, QStringLiteral("argument 1: expected string, got null"));
    same("bad date-time", R"([{"created":"yesterday"}])", { order },
         QStringLiteral("argument 1: .created: invalid date-time 'yesterday'"));
    same("bad uuid", R"(["12345678-1234-1234-1234-12345678abcdX"])", { QMetaType::fromType<QUuid>() },
         QStringLiteral("argument 1: invalid UUID '12345678-1234-1234-1234-12345678abcdX'"));
    rows("map for a list", R"([{}])", { QMetaType::fromType<QStringList>() },
         QStringLiteral("argument 1: expected array, got map"), QStringLiteral("argument 1: expected array, got object"));
    rows("list for a gadget", R"([[]])", { order }, QStringLiteral("argument 1: expected map, got array"),
         QStringLiteral("argument 1: expected object, got array"));
    rows("object for the arguments", R"({"a":1})", { integer },
         QStringLiteral("request body: expected array of 1 arguments, got map"),
         QStringLiteral("request body: expected array of 1 arguments, got object"));
    rows("string for bytes", R"([1])", { QMetaType::fromType<QByteArray>() },
         QStringLiteral("argument 1: expected byte string, got integer"),
         QStringLiteral("argument 1: expected base64 string, got number"));
    rows("number for a bool", R"([1])", { QMetaType::fromType<bool>() },
         QStringLiteral("argument 1: expected boolean, got integer"),
         QStringLiteral("argument 1: expected boolean, got number"));
    rows("unsupported argument type", R"([1])", { QMetaType::fromType<QPoint>() },
         QStringLiteral("argument 1: QPoint is not supported"), QStringLiteral("argument 1: QPoint is not supported"));
    QTest::newRow("json: invalid base64") << Serialization::Json << QByteArray(R"(["@@@"])")
                                          << QList<QMetaType> { QMetaType::fromType<QByteArray>() }
                                          << QStringLiteral("argument 1: invalid base64");
    QTest::newRow("json: decimal string that is not a number")
            << Serialization::Json << QByteArray(R"(["12a"])") << QList<QMetaType> { QMetaType::fromType<quint64>() }
            << QStringLiteral("argument 1: expected integer, got string");
    QTest::newRow("binary: tag where a string belongs")
            << Serialization::Binary << QByteArray::fromHex("81c06161") << QList<QMetaType> { string }
            << QStringLiteral("argument 1: expected string, got tag 0");
    QTest::newRow("binary: non-string map key in a gadget")
            << Serialization::Binary << QByteArray::fromHex("81a10102") << QList<QMetaType> { order }
            << QStringLiteral("argument 1: expected string map key, got integer");
    QTest::newRow("binary: uuid of the wrong length")
            << Serialization::Binary << QByteArray::fromHex("81d82543010203") << QList<QMetaType> { QMetaType::fromType<QUuid>() }
            << QStringLiteral("argument 1: expected 16-byte UUID, got 3 bytes");
}

void tst_Marshal::wrongTypesAreReportedWithTheirPosition()
{
    QFETCH(Serialization, serialization);
    QFETCH(QByteArray, body);
    QFETCH(QList<QMetaType>, types);
    QFETCH(QString, error);
    QString actual;
    QVERIFY(!decodeArguments(serialization, body, types, nullptr, &actual));
    QCOMPARE(actual, error);
}

void tst_Marshal::integersAreCheckedAgainstTheTargetRange_data()
{
    QTest::addColumn<Serialization>("serialization");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QMetaType>("type");
    QTest::addColumn<bool>("accepted");

    // value = negative ? -1 - magnitude : magnitude, as on the CBOR wire.
    const auto rows = [](const char *name, QMetaType type, bool negative, quint64 magnitude, bool accepted) {
        constexpr quint64 int64Max = quint64(std::numeric_limits<qint64>::max());
        QByteArray json;
        if (magnitude <= int64Max)
            json = negative ? '-' + QByteArray::number(magnitude + 1) : QByteArray::number(magnitude);
        else if (negative) // below qint64: written as a number, which JSON parsers read as a double
            json = "-1e19";
        else
            json = '"' + QByteArray::number(magnitude) + '"';
        QTest::newRow(rowName(Serialization::Binary, name).constData())
                << Serialization::Binary << cborInteger(negative, magnitude) << type << accepted;
        QTest::newRow(rowName(Serialization::Json, name).constData())
                << Serialization::Json << json << type << accepted;
    };
    const quint64 max64 = std::numeric_limits<quint64>::max();
    rows("qint8 min", QMetaType::fromType<qint8>(), true, 127, true);
    rows("qint8 max", QMetaType::fromType<qint8>(), false, 127, true);
    rows("qint8 min - 1", QMetaType::fromType<qint8>(), true, 128, false);
    rows("qint8 max + 1", QMetaType::fromType<qint8>(), false, 128, false);
    rows("quint8 zero", QMetaType::fromType<quint8>(), false, 0, true);
    rows("quint8 max", QMetaType::fromType<quint8>(), false, 255, true);
    rows("quint8 max + 1", QMetaType::fromType<quint8>(), false, 256, false);
    rows("quint8 -1", QMetaType::fromType<quint8>(), true, 0, false);
    rows("qint16 min", QMetaType::fromType<qint16>(), true, 32767, true);
    rows("qint16 min - 1", QMetaType::fromType<qint16>(), true, 32768, false);
    rows("qint16 max + 1", QMetaType::fromType<qint16>(), false, 32768, false);
    rows("quint16 max", QMetaType::fromType<quint16>(), false, 65535, true);
    rows("quint16 max + 1", QMetaType::fromType<quint16>(), false, 65536, false);
    rows("char16_t max + 1", QMetaType::fromType<char16_t>(), false, 65536, false);
    rows("qint32 min", QMetaType::fromType<qint32>(), true, 2147483647, true);
    rows("qint32 max", QMetaType::fromType<qint32>(), false, 2147483647, true);
    rows("qint32 min - 1", QMetaType::fromType<qint32>(), true, 2147483648u, false);
    rows("qint32 max + 1", QMetaType::fromType<qint32>(), false, 2147483648u, false);
    rows("quint32 max", QMetaType::fromType<quint32>(), false, 4294967295u, true);
    rows("quint32 max + 1", QMetaType::fromType<quint32>(), false, 4294967296ull, false);
    rows("qint64 min", QMetaType::fromType<qint64>(), true, 9223372036854775807ull, true);
    rows("qint64 max", QMetaType::fromType<qint64>(), false, 9223372036854775807ull, true);
    rows("qint64 max + 1", QMetaType::fromType<qint64>(), false, 9223372036854775808ull, false);
    rows("qint64 min - 1", QMetaType::fromType<qint64>(), true, 9223372036854775808ull, false);
    rows("quint64 above qint64", QMetaType::fromType<quint64>(), false, 9223372036854775808ull, true);
    rows("quint64 max", QMetaType::fromType<quint64>(), false, max64, true);
    rows("quint64 -1", QMetaType::fromType<quint64>(), true, 0, false);
    rows("qint64 -2^64", QMetaType::fromType<qint64>(), true, max64, false);
    QTest::newRow("json: quint64 max + 1 as a string") << Serialization::Json << QByteArray(R"("18446744073709551616")")
                                                       << QMetaType::fromType<quint64>() << false;
    QTest::newRow("json: qint64 min - 1 as a string") << Serialization::Json << QByteArray(R"("-9223372036854775809")")
                                                      << QMetaType::fromType<qint64>() << false;
}

void tst_Marshal::integersAreCheckedAgainstTheTargetRange()
{
    QFETCH(Serialization, serialization);
    QFETCH(QByteArray, body);
    QFETCH(QMetaType, type);
    QFETCH(bool, accepted);
    QVariant value;
    QString error;
    const bool ok = decodeValue(serialization, body, type, &value, &error);
    QVERIFY2(ok == accepted, qPrintable(error));
    if (accepted) // and the value is exact: it encodes to the same body
        QCOMPARE(encodeValue(serialization, value), body);
    else
        QVERIFY2(error.contains(QLatin1String("out of range")), qPrintable(error));
}

void tst_Marshal::enumsAcceptNamesAndNumbers_data()
{
    QTest::addColumn<Serialization>("serialization");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QVariant>("expected");

    const auto both = [](const char *name, const QByteArray &json, const QVariant &expected) {
        for (Serialization s : bothSerializations)
            QTest::newRow(rowName(s, name).constData()) << s << bodyFromJson(s, json) << expected;
    };
    both("name", R"("Green")", QVariant::fromValue(Item::Color::Green));
    both("number", "5", QVariant::fromValue(Item::Color::Green));
    both("negative number", "-3", QVariant::fromValue(Item::Color::Blue));
    both("negative enumerator by name", R"("Blue")", QVariant::fromValue(Item::Color::Blue));
    both("unsigned 8-bit enum by name", R"("High")", QVariant::fromValue(Settings::Level::High));
    both("unsigned 8-bit enum by number", "200", QVariant::fromValue(Settings::Level::High));
    both("number without a name", "7", QVariant::fromValue(Settings::Level(7)));
    both("namespace enum by name", R"("Square")", QVariant::fromValue(Shapes::Kind::Square));
}

void tst_Marshal::enumsAcceptNamesAndNumbers()
{
    QFETCH(Serialization, serialization);
    QFETCH(QByteArray, body);
    QFETCH(QVariant, expected);
    QVariant value;
    QString error;
    QVERIFY2(decodeValue(serialization, body, expected.metaType(), &value, &error), qPrintable(error));
    QCOMPARE(value, expected);
}

void tst_Marshal::unsupportedTypesAreReportedWithAReason_data()
{
    QTest::addColumn<QMetaType>("type");
    QTest::addColumn<QString>("reason");

    QTest::newRow("QPoint") << QMetaType::fromType<QPoint>() << QStringLiteral("QPoint is not supported");
    QTest::newRow("list of QPoint") << QMetaType::fromType<QList<QPoint>>()
                                    << QStringLiteral("QList<QPoint>: element type QPoint is not supported");
    QTest::newRow("gadget with a QPoint") << QMetaType::fromType<BadGadget>()
                                          << QStringLiteral("BadGadget: property 'pos' of type QPoint is not supported");
    QTest::newRow("list of such gadgets")
            << QMetaType::fromType<QList<BadGadget>>()
            << QStringLiteral("QList<BadGadget>: element type BadGadget: property 'pos' of type QPoint is not supported");
    QTest::newRow("recursive gadget with a QPoint")
            << QMetaType::fromType<QList<BadTree>>()
            << QStringLiteral("QList<BadTree>: element type BadTree: property 'pos' of type QPoint is not supported");
    QTest::newRow("map with int keys") << QMetaType::fromType<QMap<int, QString>>()
                                       << QStringLiteral("QMap<int,QString>: map keys must be QString");
    QTest::newRow("hash of QPoint") << QMetaType::fromType<QHash<QString, QPoint>>()
                                    << QStringLiteral("QHash<QString,QPoint>: value type QPoint is not supported");
    QTest::newRow("QObject pointer") << QMetaType::fromType<QObject *>()
                                     << QStringLiteral("QObject* is not supported (pointers cannot be sent)");
    QTest::newRow("enum without Q_ENUM")
            << QMetaType::fromType<PlainEnum>()
            << QStringLiteral("PlainEnum: enum without Q_ENUM or Q_ENUM_NS metadata is not supported");
    QTest::newRow("void") << QMetaType::fromType<void>()
                          << QStringLiteral("void has no value (a void result is an empty body)");
    QTest::newRow("invalid type") << QMetaType() << QStringLiteral("the type is not known to Qt's meta-type system");
}

void tst_Marshal::unsupportedTypesAreReportedWithAReason()
{
    QFETCH(QMetaType, type);
    QFETCH(QString, reason);
    QCOMPARE(Marshal::unsupportedReason(type), reason);

    // Decoding into such a type says why too; encoding one sends null (and warns).
    if (!type.isValid() || type == QMetaType::fromType<void>())
        return;
    for (Serialization s : bothSerializations) {
        Targets targets({ type });
        QString error;
        QVERIFY(!Marshal::decodeValue(s, s == Serialization::Json ? QByteArray("1") : QByteArray("\x01"), type,
                                      targets.pointers.at(0), &error));
        QCOMPARE(error, reason);
    }
}

void tst_Marshal::supportedTypesHaveNoReason_data()
{
    QTest::addColumn<QMetaType>("type");
    QTest::newRow("QVariant") << QMetaType::fromType<QVariant>();
    QTest::newRow("QVariantMap") << QMetaType::fromType<QVariantMap>();
    QTest::newRow("QVariantHash") << QMetaType::fromType<QVariantHash>();
    QTest::newRow("QVariantList") << QMetaType::fromType<QVariantList>();
    QTest::newRow("QStringList") << QMetaType::fromType<QStringList>();
    QTest::newRow("recursive gadget") << QMetaType::fromType<TreeNode>();
    QTest::newRow("hash of lists of gadgets") << QMetaType::fromType<QHash<QString, QList<Order>>>();
    QTest::newRow("std::nullptr_t") << QMetaType::fromType<std::nullptr_t>();
}

void tst_Marshal::supportedTypesHaveNoReason()
{
    QFETCH(QMetaType, type);
    QCOMPARE(Marshal::unsupportedReason(type), QString());
}

void tst_Marshal::typesKnownOnlyFromMocMetadataRoundTrip()
{
    // Nothing in this test registers these types: they are only named in RemoteApi's methods.
    QVERIFY(!QMetaType::fromName("QList<RemoteGadget>").isValid());
    QVERIFY(!QMetaType::fromName("QHash<QString,RemoteGadget>").isValid());

    const QMetaObject &mo = RemoteApi::staticMetaObject;
    const auto parameterType = [&mo](const char *signature) {
        const int index = mo.indexOfMethod(signature);
        return index < 0 ? QMetaType() : mo.method(index).parameterMetaType(0);
    };
    const QMetaType gadgets = parameterType("putGadgets(QList<RemoteGadget>)");
    const QMetaType lists = parameterType("putLists(QMap<QString,QList<int>>)");
    const QMetaType index = parameterType("putIndex(QHash<QString,RemoteGadget>)");
    QVERIFY(gadgets.isValid());
    QVERIFY(lists.isValid());
    QVERIFY(index.isValid());
    QCOMPARE(Marshal::unsupportedReason(gadgets), QString());
    QCOMPARE(Marshal::unsupportedReason(lists), QString());
    QCOMPARE(Marshal::unsupportedReason(index), QString());

    RemoteGadget g1;
    g1.name = QStringLiteral("one");
    g1.values = { 1, -1 };
    RemoteGadget g2;
    g2.name = QStringLiteral("two");
    const QList<RemoteGadget> gadgetsValue { g1, g2 };
    const QMap<QString, QList<int>> listsValue { { QStringLiteral("a"), { 1, 2, 3 } }, { QStringLiteral("b"), {} } };
    const QHash<QString, RemoteGadget> indexValue { { QStringLiteral("one"), g1 }, { QStringLiteral("two"), g2 } };

    for (Serialization s : bothSerializations) {
        const ValueRef refs[] = { { gadgets, &gadgetsValue }, { lists, &listsValue }, { index, &indexValue } };
        QByteArray body;
        Marshal::encodeArguments(s, refs, 3, body);

        QList<RemoteGadget> gadgetsOut;
        QMap<QString, QList<int>> listsOut;
        QHash<QString, RemoteGadget> indexOut;
        const QMetaType types[] = { gadgets, lists, index };
        void *const out[] = { &gadgetsOut, &listsOut, &indexOut };
        QString error;
        QVERIFY2(Marshal::decodeArguments(s, body, types, out, 3, &error), qPrintable(error));
        QCOMPARE(gadgetsOut, gadgetsValue);
        QCOMPARE(listsOut, listsValue);
        QCOMPARE(indexOut, indexValue);
    }
}

void tst_Marshal::missingPropertiesKeepDefaultsAndUnknownKeysAreIgnored_data()
{
    QTest::addColumn<Serialization>("serialization");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<Settings>("expected");

    const auto both = [](const char *name, const QByteArray &json, const Settings &expected) {
        for (Serialization s : bothSerializations)
            QTest::newRow(rowName(s, name).constData()) << s << bodyFromJson(s, json) << expected;
    };
    both("empty map", "{}", Settings());
    Settings some;
    some.retries = 5;
    some.mode = QStringLiteral("slow");
    both("some properties and unknown keys",
         R"({"retries":5,"unknown":[1,{"x":[[[]]]}],"mode":"slow","other":null})", some);
    Settings all;
    all.retries = -1;
    all.mode = QString();
    all.level = Settings::Level::High;
    all.small = 0;
    both("every property", R"({"small":0,"level":"High","mode":"","retries":-1})", all);
}

void tst_Marshal::missingPropertiesKeepDefaultsAndUnknownKeysAreIgnored()
{
    QFETCH(Serialization, serialization);
    QFETCH(QByteArray, body);
    QFETCH(Settings, expected);
    Settings actual;
    QString error;
    QVERIFY2(Marshal::decodeValue(serialization, body, QMetaType::fromType<Settings>(), &actual, &error),
             qPrintable(error));
    QCOMPARE(actual, expected);

    // The defaults are those of the type, not of the element before it in a list.
    QList<Settings> list;
    const QByteArray listBody = serialization == Serialization::Json ? R"([{"retries":9,"mode":"x"},{}])"
                                                                       : cborFromJson(R"([{"retries":9,"mode":"x"},{}])");
    QVERIFY2(Marshal::decodeValue(serialization, listBody, QMetaType::fromType<QList<Settings>>(), &list, &error),
             qPrintable(error));
    QCOMPARE(list.size(), 2);
    QCOMPARE(list.at(1), Settings());
}

void tst_Marshal::decodingReplacesTheContentsOfContainers_data()
{
    QTest::addColumn<Serialization>("serialization");
    for (Serialization s : bothSerializations)
        QTest::newRow(Tomato::serializationName(s).toLatin1().constData()) << s;
}

void tst_Marshal::decodingReplacesTheContentsOfContainers()
{
    QFETCH(Serialization, serialization);
    QString error;
    QList<int> list { 9, 9, 9 };
    QVERIFY2(Marshal::decodeValue(serialization, bodyFromJson(serialization, "[1]"), QMetaType::fromType<QList<int>>(),
                                  &list, &error),
             qPrintable(error));
    QCOMPARE(list, QList<int> { 1 });

    QMap<QString, int> map { { QStringLiteral("old"), 1 } };
    QVERIFY2(Marshal::decodeValue(serialization, bodyFromJson(serialization, R"({"new":2})"),
                                  QMetaType::fromType<QMap<QString, int>>(), &map, &error),
             qPrintable(error));
    QCOMPARE(map, (QMap<QString, int> { { QStringLiteral("new"), 2 } }));
}

void tst_Marshal::encodingAppendsToWhatIsAlreadyThere_data()
{
    decodingReplacesTheContentsOfContainers_data();
}

void tst_Marshal::encodingAppendsToWhatIsAlreadyThere()
{
    QFETCH(Serialization, serialization);
    const QByteArray header("HEADER");
    QByteArray frame = header;
    const QString text = QStringLiteral("payload");
    const ValueRef ref { QMetaType::fromType<QString>(), &text };
    Marshal::encodeArguments(serialization, &ref, 1, frame);
    QVERIFY(frame.startsWith(header));
    QCOMPARE(frame.mid(header.size()), encodeArguments(serialization, { text }));

    frame = header;
    Marshal::encodeValue(serialization, ref, frame);
    QVERIFY(frame.startsWith(header));
    QCOMPARE(frame.mid(header.size()), encodeValue(serialization, text));
}

void tst_Marshal::malformedRequestBodiesFailCleanly_data()
{
    QTest::addColumn<Serialization>("serialization");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QList<QMetaType>>("types");
    QTest::addColumn<QString>("error");

    const QList<QMetaType> oneString { QMetaType::fromType<QString>() };
    const QList<QMetaType> twoInts { QMetaType::fromType<int>(), QMetaType::fromType<int>() };
    const auto cbor = [](const char *name, const char *hex, const QList<QMetaType> &types, const QString &error) {
        QTest::newRow(rowName(Serialization::Binary, name).constData())
                << Serialization::Binary << QByteArray::fromHex(hex) << types << error;
    };
    const auto json = [](const char *name, const QByteArray &text, const QList<QMetaType> &types, const QString &error) {
        QTest::newRow(rowName(Serialization::Json, name).constData())
                << Serialization::Json << text << types << error;
    };

    cbor("empty body", "", oneString, QStringLiteral("request body: empty, expected an array of 1 arguments"));
    cbor("truncated array", "8201", twoInts, QStringLiteral("argument 2: truncated CBOR (more bytes needed)"));
    cbor("truncated integer", "821901", twoInts, QStringLiteral("argument 1: truncated CBOR (more bytes needed)"));
    cbor("truncated string", "8164616263", oneString, QStringLiteral("argument 1: truncated CBOR (more bytes needed)"));
    cbor("string longer than the body", "817a7fffffff61", oneString,
         QStringLiteral("argument 1: truncated CBOR (string longer than the body)"));
    cbor("too many arguments, indefinite length", "9f010203ff", twoInts,
         QStringLiteral("request body: expected 2 arguments, got more"));
    cbor("too few arguments, indefinite length", "9f01ff", twoInts,
         QStringLiteral("request body: expected 2 arguments, got 1"));
    cbor("missing break", "9f0102", twoInts, QStringLiteral("request body: truncated CBOR (more bytes needed)"));
    cbor("trailing bytes", "82010200", twoInts, QStringLiteral("request body: unexpected data after the arguments"));
    cbor("not an array", "a0", twoInts, QStringLiteral("request body: expected array of 2 arguments, got map"));
    cbor("invalid UTF-8", "8162c328", oneString,
         QStringLiteral("argument 1: invalid CBOR at byte 2: Invalid CBOR stream: invalid UTF-8 text string"));
    cbor("break inside a definite array", "82ff01", twoInts,
         QStringLiteral("argument 1: invalid CBOR at byte 1: Invalid CBOR stream: unexpected 'break' byte"));
    cbor("reserved additional information", "811c", twoInts.mid(0, 1),
         QStringLiteral("argument 1: invalid CBOR at byte 1: Invalid CBOR stream: illegal number encoding (future extension)"));
    json("empty body", "  ", oneString, QStringLiteral("request body: empty, expected an array of 1 arguments"));
    json("unterminated array", "[1,2", twoInts, QStringLiteral("request body: invalid JSON at byte 4: invalid termination by number"));
    json("trailing garbage", "[1,2] x", twoInts,
         QStringLiteral("request body: invalid JSON at byte 6: garbage at the end of the document"));
    json("scalar instead of an array", "1", twoInts.mid(0, 1),
         QStringLiteral("request body: invalid JSON at byte 1: illegal value"));
    json("object instead of an array", "{}", twoInts,
         QStringLiteral("request body: expected array of 2 arguments, got object"));
    json("invalid UTF-8", "[\"\xc3\x28\"]", oneString,
         QStringLiteral("request body: invalid JSON at byte 2: invalid UTF8 string"));
    json("too few arguments", "[1]", twoInts, QStringLiteral("request body: expected 2 arguments, got 1"));
}

void tst_Marshal::malformedRequestBodiesFailCleanly()
{
    QFETCH(Serialization, serialization);
    QFETCH(QByteArray, body);
    QFETCH(QList<QMetaType>, types);
    QFETCH(QString, error);
    QString actual;
    QVERIFY(!decodeArguments(serialization, body, types, nullptr, &actual));
    QCOMPARE(actual, error);
    QVERIFY(!decodeArguments(serialization, body, types, nullptr, nullptr)); // no error wanted
}

void tst_Marshal::malformedResultBodiesFailCleanly_data()
{
    QTest::addColumn<Serialization>("serialization");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QMetaType>("type");
    QTest::addColumn<QString>("error");

    const QMetaType integer = QMetaType::fromType<int>();
    QTest::newRow("binary: empty body") << Serialization::Binary << QByteArray() << integer
                                        << QStringLiteral("response body: empty, expected a value");
    QTest::newRow("binary: two values") << Serialization::Binary << QByteArray::fromHex("0102") << integer
                                        << QStringLiteral("response body: unexpected data after the value");
    QTest::newRow("binary: truncated") << Serialization::Binary << QByteArray::fromHex("19") << integer
                                       << QStringLiteral("truncated CBOR (more bytes needed)");
    QTest::newRow("binary: wrong type") << Serialization::Binary << QByteArray::fromHex("6161") << integer
                                        << QStringLiteral("expected integer, got string");
    QTest::newRow("json: empty body") << Serialization::Json << QByteArray("\n") << integer
                                      << QStringLiteral("response body: empty, expected a value");
    QTest::newRow("json: two values") << Serialization::Json << QByteArray("1,2") << integer
                                      << QStringLiteral("response body: unexpected data after the value");
    QTest::newRow("json: two values without a comma") << Serialization::Json << QByteArray("1 2") << integer
                                                      << QStringLiteral("response body: invalid JSON at byte 3: missing value separator");
    QTest::newRow("json: bracket games") << Serialization::Json << QByteArray("1],[2") << integer
                                         << QStringLiteral("response body: invalid JSON at byte 2: garbage at the end of the document");
    QTest::newRow("json: wrong type") << Serialization::Json << QByteArray("\"x\"") << integer
                                      << QStringLiteral("expected integer, got string");
    QTest::newRow("json: unterminated object") << Serialization::Json << QByteArray("{\"a\":1") << QMetaType::fromType<QVariant>()
                                               << QStringLiteral("response body: invalid JSON at byte 6: invalid termination by number");
}

void tst_Marshal::malformedResultBodiesFailCleanly()
{
    QFETCH(Serialization, serialization);
    QFETCH(QByteArray, body);
    QFETCH(QMetaType, type);
    QFETCH(QString, error);
    QString actual;
    QVERIFY(!decodeValue(serialization, body, type, nullptr, &actual));
    QCOMPARE(actual, error);
}

void tst_Marshal::nestingBeyondTheLimitIsRefused_data()
{
    QTest::addColumn<Serialization>("serialization");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QMetaType>("type");
    QTest::addColumn<bool>("accepted");

    const QMetaType variant = QMetaType::fromType<QVariant>();
    const auto arrays = [](Serialization s, int depth) {
        if (s == Serialization::Binary)
            return QByteArray(depth, '\x81') + '\x00';
        return QByteArray(depth, '[') + '0' + QByteArray(depth, ']');
    };
    for (Serialization s : bothSerializations) {
        QTest::newRow(rowName(s, "64 nested arrays").constData()) << s << arrays(s, 64) << variant << true;
        QTest::newRow(rowName(s, "65 nested arrays").constData()) << s << arrays(s, 65) << variant << false;
        QTest::newRow(rowName(s, "1000 nested arrays").constData()) << s << arrays(s, 1000) << variant << false;
        QByteArray tree = "{}";
        for (int i = 0; i < 40; ++i)
            tree = R"({"label":"x","children":[)" + tree + "]}";
        QTest::newRow(rowName(s, "deep recursive gadget").constData())
                << s << bodyFromJson(s, tree) << QMetaType::fromType<TreeNode>() << false;
    }
    QTest::newRow("binary: a million nested arrays") << Serialization::Binary << QByteArray(1000000, '\x81') << variant << false;
    QTest::newRow("binary: a million nested maps in an ignored property")
            << Serialization::Binary << QByteArray::fromHex("a16378797a") + QByteArray(1000000, '\xa1') << QMetaType::fromType<Item>() << false;
    QByteArray tags;
    for (int i = 0; i < 100000; ++i)
        tags += QByteArray::fromHex("c6");
    QTest::newRow("binary: a long chain of unknown tags") << Serialization::Binary << tags + '\x01' << variant << true;
}

void tst_Marshal::nestingBeyondTheLimitIsRefused()
{
    QFETCH(Serialization, serialization);
    QFETCH(QByteArray, body);
    QFETCH(QMetaType, type);
    QFETCH(bool, accepted);
    QString error;
    const bool ok = decodeValue(serialization, body, type, nullptr, &error);
    QVERIFY2(ok == accepted, qPrintable(error.left(200)));
    if (!accepted) {
        QVERIFY2(error.contains(QLatin1String("nested deeper than 64 levels"))
                         || error.contains(QLatin1String("truncated")) || error.contains(QLatin1String("invalid JSON")),
                 qPrintable(error.left(200)));
    }
}

void tst_Marshal::everyTruncationOfAValidBodyFails_data()
{
    QTest::addColumn<Serialization>("serialization");
    for (Serialization s : bothSerializations)
        QTest::newRow(Tomato::serializationName(s).toLatin1().constData()) << s;
}

void tst_Marshal::everyTruncationOfAValidBodyFails()
{
    QFETCH(Serialization, serialization);
    const QVariantList arguments { QVariant::fromValue(makeOrder()),
                                   QVariant(QVariantMap { { QStringLiteral("k"), QVariantList { qint64(1), QStringLiteral("é") } } }),
                                   QVariant::fromValue(makeTree(2)), QStringLiteral("日本語"),
                                   QVariant(QByteArray("\x00\x01\x02", 3)),
                                   QVariant::fromValue(QUuid(QStringLiteral("12345678-1234-1234-1234-12345678abcd"))) };
    QList<QMetaType> types;
    for (const QVariant &a : arguments)
        types.append(a.metaType());
    const QByteArray body = encodeArguments(serialization, arguments);
    QString error;
    QVariantList decoded;
    QVERIFY2(decodeArguments(serialization, body, types, &decoded, &error), qPrintable(error));
    QCOMPARE(decoded, arguments);
    for (qsizetype size = 0; size < body.size(); ++size) {
        error.clear();
        const bool ok = decodeArguments(serialization, QByteArrayView(body).first(size), types, nullptr, &error);
        QVERIFY2(!ok, qPrintable(QStringLiteral("a body cut to %1 of %2 bytes was accepted").arg(size).arg(body.size())));
        QVERIFY(!error.isEmpty());
    }
}

void tst_Marshal::randomAndMutatedInputNeverCrashes_data()
{
    everyTruncationOfAValidBodyFails_data();
}

void tst_Marshal::randomAndMutatedInputNeverCrashes()
{
    QFETCH(Serialization, serialization);
    QRandomGenerator random(20240601u + quint32(serialization));
    const QList<QMetaType> types { QMetaType::fromType<Order>(), QMetaType::fromType<QVariant>(),
                                   QMetaType::fromType<QList<TreeNode>>(), QMetaType::fromType<QUuid>() };
    const QByteArray valid = encodeArguments(serialization, { QVariant::fromValue(makeOrder()),
                                                              QVariant(QVariantList { 1.5, QStringLiteral("x"), QVariantMap {} }),
                                                              QVariant::fromValue(QList<TreeNode> { makeTree(2) }),
                                                              QVariant::fromValue(QUuid::createUuid()) });
    QVERIFY(decodeArguments(serialization, valid, types, nullptr, nullptr));

    int rejected = 0;
    const auto attempt = [&](const QByteArray &body) {
        QString error;
        if (!decodeArguments(serialization, body, types, nullptr, &error)) {
            ++rejected;
            QVERIFY(!error.isEmpty());
        }
        QVariant value;
        error.clear();
        if (!decodeValue(serialization, body, QMetaType::fromType<QVariant>(), &value, &error))
            QVERIFY(!error.isEmpty());
    };
    for (int i = 0; i < 3000; ++i) {
        attempt(randomBytes(random, random.bounded(64)));
        QByteArray mutated = valid;
        for (int n = random.bounded(1, 4); n > 0; --n)
            mutated[random.bounded(int(mutated.size()))] = char(random.bounded(256));
        attempt(mutated);
        // Structural bytes in random places: CBOR container heads and JSON punctuation.
        QByteArray spliced = valid;
        static const char structural[] = "\x9f\xbf\xff\x81\xa1\xc0\xd8\x7f\x5f[]{}\",:";
        spliced.insert(random.bounded(int(spliced.size())), structural[random.bounded(int(sizeof structural - 1))]);
        attempt(spliced);
    }
    QVERIFY(rejected > 3000); // the point is no crash; most of this must be refused
}

void tst_Marshal::firstUseOnManyThreadsAtOnceIsSafe()
{
    using Value = QHash<QString, QList<ConcurrentGadget>>;
    ConcurrentGadget g;
    g.name = QStringLiteral("g");
    g.values = { 1, -2, 3 };
    const Value value { { QStringLiteral("a"), { g, g } }, { QStringLiteral("b"), {} } };
    const QMetaType type = QMetaType::fromType<Value>();

    QSemaphore go;
    std::atomic<int> failures { 0 };
    QList<QThread *> threads;
    for (int t = 0; t < 8; ++t) {
        threads.append(QThread::create([&] {
            go.acquire();
            for (int i = 0; i < 50; ++i) {
                for (Serialization s : bothSerializations) {
                    if (!Marshal::unsupportedReason(type).isEmpty())
                        ++failures;
                    QByteArray body;
                    Marshal::encodeValue(s, { type, &value }, body);
                    Value decoded;
                    if (!Marshal::decodeValue(s, body, type, &decoded, nullptr) || decoded != value)
                        ++failures;
                }
            }
        }));
        threads.last()->start();
    }
    go.release(int(threads.size()));
    for (QThread *thread : threads) {
        QVERIFY(thread->wait(60000));
        delete thread;
    }
    QCOMPARE(failures.load(), 0);
}

void tst_Marshal::serializationNamesAreParsed_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("known");
    QTest::addColumn<Serialization>("expected");
    QTest::newRow("binary") << QStringLiteral("binary") << true << Serialization::Binary;
    QTest::newRow("cbor") << QStringLiteral("cbor") << true << Serialization::Binary;
    QTest::newRow("upper case") << QStringLiteral("CBOR") << true << Serialization::Binary;
    QTest::newRow("json") << QStringLiteral("json") << true << Serialization::Json;
    QTest::newRow("mixed case json") << QStringLiteral("Json") << true << Serialization::Json;
    QTest::newRow("unknown") << QStringLiteral("xml") << false << Serialization::Binary;
    QTest::newRow("empty") << QString() << false << Serialization::Binary;
}

void tst_Marshal::serializationNamesAreParsed()
{
    QFETCH(QString, name);
    QFETCH(bool, known);
    QFETCH(Serialization, expected);
    Serialization actual = Serialization::Binary;
    QCOMPARE(Tomato::serializationFromName(name, &actual), known);
    QCOMPARE(actual, expected);
    if (known) // names round-trip
        QCOMPARE(Tomato::serializationName(actual), name.toLower() == QLatin1String("cbor") ? QStringLiteral("binary") : name.toLower());
}

// Plain scalars take a hand-written path (no QBuffer, no writer); its bytes must be exactly the
// writer's, at every head size and for every kind of UTF-16 the text may hold.
void tst_Marshal::scalarsAreWrittenAsQCborStreamWriterWritesThem_data()
{
    QTest::addColumn<QVariant>("value");
    for (qint64 v : {qint64(0), qint64(1), qint64(23), qint64(24), qint64(255), qint64(256), qint64(65535), qint64(65536),
                     qint64(4294967295LL), qint64(4294967296LL), std::numeric_limits<qint64>::max(), qint64(-1),
                     qint64(-24), qint64(-25), qint64(-256), qint64(-257), qint64(-65537), std::numeric_limits<qint64>::min()})
        QTest::addRow("qint64 %lld", static_cast<long long>(v)) << QVariant::fromValue(v);
    QTest::newRow("quint64 max") << QVariant::fromValue(std::numeric_limits<quint64>::max());
    QTest::newRow("int -7") << QVariant::fromValue(-7);
    QTest::newRow("short -300") << QVariant::fromValue(short(-300));
    QTest::newRow("uchar 200") << QVariant::fromValue(uchar(200));
    QTest::newRow("true") << QVariant(true);
    QTest::newRow("false") << QVariant(false);
    QTest::newRow("empty text") << QVariant(QString());
    QTest::newRow("ascii") << QVariant(QStringLiteral("hello"));
    QTest::newRow("two-byte") << QVariant(QStringLiteral("héllo"));
    QTest::newRow("three-byte") << QVariant(QStringLiteral("€ and ✓"));
    QTest::newRow("surrogate pair") << QVariant(QString::fromUtf8("tomato \xF0\x9F\x8D\x85"));
    QTest::newRow("lone high surrogate") << QVariant(QString(QChar(0xD83C)) + QLatin1Char('x'));
    QTest::newRow("lone low surrogate") << QVariant(QLatin1Char('x') + QString(QChar(0xDF45)));
    QTest::newRow("high at the end") << QVariant(QLatin1String("x") + QString(QChar(0xD83C)));
    QTest::newRow("long text") << QVariant(QString(300, QChar(0x00E9)));
    QTest::newRow("empty bytes") << QVariant(QByteArray());
    QTest::newRow("24 bytes") << QVariant(QByteArray(24, 'b'));
    QTest::newRow("70000 bytes") << QVariant(QByteArray(70000, 'b'));
}

void tst_Marshal::scalarsAreWrittenAsQCborStreamWriterWritesThem()
{
    QFETCH(QVariant, value);
    QByteArray expected;
    {
        QCborStreamWriter writer(&expected);
        switch (value.metaType().id()) {
        case QMetaType::Bool: writer.append(value.toBool()); break;
        case QMetaType::QString: writer.append(value.toString()); break;
        case QMetaType::QByteArray: writer.append(value.toByteArray()); break;
        case QMetaType::ULongLong: writer.append(value.toULongLong()); break;
        default: writer.append(value.toLongLong()); break;
        }
    }
    QByteArray value1;
    Tomato::Marshal::encodeValue(Tomato::Serialization::Binary, {value.metaType(), value.constData()}, value1);
    QCOMPARE(value1.toHex(' '), expected.toHex(' '));
    // As the only argument of a request: an array head, then the same bytes.
    QByteArray arguments;
    const Tomato::ValueRef ref{value.metaType(), value.constData()};
    Tomato::Marshal::encodeArguments(Tomato::Serialization::Binary, &ref, 1, arguments);
    QCOMPARE(arguments.toHex(' '), (QByteArray("\x81") + expected).toHex(' '));
}

QTEST_GUILESS_MAIN(tst_Marshal)
#include "tst_marshal.moc"

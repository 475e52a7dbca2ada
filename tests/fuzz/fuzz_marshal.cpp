// SPDX-License-Identifier: Apache-2.0
// The argument and value decoders (serialization/marshal_p.h), CBOR in fuzz_marshal_cbor and
// JSON in fuzz_marshal_json (TOMATO_FUZZ_JSON), for the parameter lists of the test services
// (tests/auto/rpc/testservice.h: every supported kind of value, tests/auto/serialization/
// testtypes.h: enums, nested and recursive gadgets) and for single values of every supported
// type. Input: byte 0 picks the method or the type, the rest is the body.
// What decodes must encode, what it encodes must decode again, to a value that encodes the same.
#include "testservice.h"
#include "testtypes.h"

#include <tomato/serialization/interfaceinfo_p.h>
#include <tomato/serialization/marshal_p.h>

#include <QtCore/QSet>
#include <QtCore/QUuid>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <vector>

using namespace Tomato;

namespace {

constexpr Serialization Format = TOMATO_FUZZ_JSON ? Serialization::Json : Serialization::Binary;

// A local implementation of RemoteApi is not needed: only its meta-object is read.
struct Signatures
{
    QList<QList<QMetaType>> lists; // parameter lists, then one-type lists for decodeValue
    qsizetype argumentLists = 0;

    Signatures()
    {
        for (const QMetaObject *mo : { &Test::TestService::staticMetaObject, &RemoteApi::staticMetaObject }) {
            const InterfaceInfo info = InterfaceInfo::fromMetaObject(*mo);
            for (const MethodInfo &m : info.methods)
                lists.append(m.parameterTypes);
        }
        argumentLists = lists.size();
        const QMetaType values[] = {
            QMetaType::fromType<bool>(), QMetaType::fromType<qint8>(), QMetaType::fromType<quint8>(),
            QMetaType::fromType<qint16>(), QMetaType::fromType<quint16>(), QMetaType::fromType<int>(),
            QMetaType::fromType<uint>(), QMetaType::fromType<long>(), QMetaType::fromType<ulong>(),
            QMetaType::fromType<qint64>(), QMetaType::fromType<quint64>(), QMetaType::fromType<char>(),
            QMetaType::fromType<signed char>(), QMetaType::fromType<char16_t>(), QMetaType::fromType<char32_t>(),
            QMetaType::fromType<float>(), QMetaType::fromType<double>(), QMetaType::fromType<QString>(),
            QMetaType::fromType<QByteArray>(), QMetaType::fromType<QDateTime>(), QMetaType::fromType<QUuid>(),
            QMetaType::fromType<QStringList>(), QMetaType::fromType<QByteArrayList>(),
            QMetaType::fromType<QList<QList<qint8>>>(), QMetaType::fromType<std::vector<double>>(),
            QMetaType::fromType<QSet<QString>>(), QMetaType::fromType<std::map<QString, int>>(),
            QMetaType::fromType<QHash<QString, QList<int>>>(), QMetaType::fromType<QMap<QString, int>>(),
            QMetaType::fromType<QVariant>(), QMetaType::fromType<QVariantMap>(), QMetaType::fromType<QVariantList>(),
            QMetaType::fromType<QVariantHash>(), QMetaType::fromType<Item::Color>(),
            QMetaType::fromType<Settings::Level>(), QMetaType::fromType<Shapes::Kind>(),
            QMetaType::fromType<Test::TestService::Color>(), QMetaType::fromType<Item>(),
            QMetaType::fromType<Order>(), QMetaType::fromType<Settings>(), QMetaType::fromType<TreeNode>(),
            QMetaType::fromType<QList<Settings>>(), QMetaType::fromType<QHash<QString, QList<Order>>>(),
            QMetaType::fromType<Test::Record>(), QMetaType::fromType<QList<Test::Item>>(),
            QMetaType::fromType<ConcurrentGadget>(),
        };
        for (QMetaType t : values) {
            if (Marshal::unsupportedReason(t).isEmpty())
                lists.append({ t });
        }
        // TOMATO_FUZZ_LIST=1: which first byte picks what (for writing seeds).
        if (qEnvironmentVariableIsSet("TOMATO_FUZZ_LIST")) {
            for (qsizetype i = 0; i < lists.size(); ++i) {
                QByteArrayList names;
                for (QMetaType t : lists.at(i))
                    names << t.name();
                fprintf(stderr, "%lld %s(%s)\n", qint64(i), i < argumentLists ? "arguments" : "value",
                        names.join(", ").constData());
            }
        }
    }
};

// Default-constructed objects of the given types, destroyed with it.
struct Objects
{
    explicit Objects(const QList<QMetaType> &types) : types(types)
    {
        for (QMetaType t : types)
            pointers.push_back(t.create());
    }
    ~Objects()
    {
        for (qsizetype i = 0; i < types.size(); ++i)
            types.at(i).destroy(pointers[size_t(i)]);
    }
    Objects(const Objects &) = delete;
    Objects &operator=(const Objects &) = delete;

    QList<QMetaType> types;
    std::vector<void *> pointers;
};

bool decode(bool arguments, QByteArrayView body, Objects &objects, QString *error)
{
    if (arguments)
        return Marshal::decodeArguments(Format, body, objects.types.constData(), objects.pointers.data(),
                                        objects.types.size(), error);
    return Marshal::decodeValue(Format, body, objects.types.at(0), objects.pointers[0], error);
}

QByteArray encode(bool arguments, const Objects &objects)
{
    QByteArray out;
    if (arguments) {
        std::vector<ValueRef> refs;
        for (qsizetype i = 0; i < objects.types.size(); ++i)
            refs.push_back({ objects.types.at(i), objects.pointers[size_t(i)] });
        Marshal::encodeArguments(Format, refs.data(), qsizetype(refs.size()), out);
    } else {
        Marshal::encodeValue(Format, { objects.types.at(0), objects.pointers[0] }, out);
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const Signatures signatures;
    if (size < 1)
        return 0;
    const qsizetype which = data[0] % signatures.lists.size();
    const bool arguments = which < signatures.argumentLists;
    const QByteArrayView body(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));

    Objects objects(signatures.lists.at(which));
    QString error;
    if (!decode(arguments, body, objects, &error)) {
        if (error.isEmpty())
            std::abort(); // a refusal says why
        return 0;
    }

    // Encoding what decoded, decoding that and encoding again gives the same bytes: the
    // encoding is a fixed point after one round (it compares NaNs and variants alike).
    const QByteArray encoded = encode(arguments, objects);
    Objects again(signatures.lists.at(which));
    if (!decode(arguments, encoded, again, &error)) {
        fprintf(stderr, "re-encoded value does not decode: %s\n%s\n", qPrintable(error), encoded.toHex().constData());
        std::abort();
    }
    const QByteArray reencoded = encode(arguments, again);
    if (reencoded != encoded) {
        fprintf(stderr, "encoding changed in a round trip:\n%s\n%s\n", encoded.toHex().constData(),
                reencoded.toHex().constData());
        std::abort();
    }
    return 0;
}

// SPDX-License-Identifier: Apache-2.0
#include <tomato/core/serialization.h>

namespace Tomato {

bool serializationFromName(QStringView name, Serialization *out)
{
    Serialization s;
    if (name.compare(QLatin1String("binary"), Qt::CaseInsensitive) == 0
        || name.compare(QLatin1String("cbor"), Qt::CaseInsensitive) == 0) {
        s = Serialization::Binary;
    } else if (name.compare(QLatin1String("json"), Qt::CaseInsensitive) == 0) {
        s = Serialization::Json;
    } else {
        return false;
    }
    if (out)
        *out = s;
    return true;
}

QString serializationName(Serialization s)
{
    switch (s) {
    case Serialization::Binary: return QStringLiteral("binary");
    case Serialization::Json: return QStringLiteral("json");
    }
    return QStringLiteral("unknown(%1)").arg(int(s));
}

} // namespace Tomato

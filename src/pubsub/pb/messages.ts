import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface FileMeta {
  cid: Uint8Array<ArrayBuffer>
  name: string
  size: number
  mediaType: string
  encrypted: boolean
  files?: number
}

export namespace FileMeta {
  let _codec: Codec<FileMeta>

  export const codec = (): Codec<FileMeta> => {
    if (_codec == null) {
      _codec = message<FileMeta>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.cid != null && obj.cid.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.cid)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(24)
          w.int64Number(obj.size)
        }

        if ((obj.mediaType != null && obj.mediaType !== '')) {
          w.uint32(34)
          w.string(obj.mediaType)
        }

        if ((obj.encrypted != null && obj.encrypted !== false)) {
          w.uint32(40)
          w.bool(obj.encrypted)
        }

        if (obj.files != null) {
          w.uint32(48)
          w.uint32(obj.files)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          cid: uint8ArrayAlloc(0),
          name: '',
          size: 0,
          mediaType: '',
          encrypted: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.cid = reader.bytes()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              obj.size = reader.int64Number()
              break
            }
            case 4: {
              obj.mediaType = reader.string()
              break
            }
            case 5: {
              obj.encrypted = reader.bool()
              break
            }
            case 6: {
              obj.files = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.cid`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.size`,
                value: reader.int64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.mediaType`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.encrypted`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.files`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface FileMetaCidFieldEvent {
    field: '$.cid'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileMetaNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface FileMetaSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface FileMetaMediaTypeFieldEvent {
    field: '$.mediaType'
    value: string
  }

  export interface FileMetaEncryptedFieldEvent {
    field: '$.encrypted'
    value: boolean
  }

  export interface FileMetaFilesFieldEvent {
    field: '$.files'
    value: number
  }

  export function encode (obj: Partial<FileMeta>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FileMeta.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileMeta>): FileMeta {
    return decodeMessage(buf, FileMeta.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileMeta>): Generator<FileMetaCidFieldEvent | FileMetaNameFieldEvent | FileMetaSizeFieldEvent | FileMetaMediaTypeFieldEvent | FileMetaEncryptedFieldEvent | FileMetaFilesFieldEvent> {
    return streamMessage(buf, FileMeta.codec(), opts)
  }
}

export interface Hello {
  name: string
}

export namespace Hello {
  let _codec: Codec<Hello>

  export const codec = (): Codec<Hello> => {
    if (_codec == null) {
      _codec = message<Hello>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HelloNameFieldEvent {
    field: '$.name'
    value: string
  }

  export function encode (obj: Partial<Hello>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Hello.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Hello {
    return decodeMessage(buf, Hello.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Generator<HelloNameFieldEvent> {
    return streamMessage(buf, Hello.codec(), opts)
  }
}

export interface AnnouncedFile {
  meta?: FileMeta
  complete: boolean
}

export namespace AnnouncedFile {
  let _codec: Codec<AnnouncedFile>

  export const codec = (): Codec<AnnouncedFile> => {
    if (_codec == null) {
      _codec = message<AnnouncedFile>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.meta != null) {
          w.uint32(10)
          FileMeta.codec().encode(obj.meta, w)
        }

        if ((obj.complete != null && obj.complete !== false)) {
          w.uint32(16)
          w.bool(obj.complete)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          complete: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.meta = FileMeta.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.meta
              })
              break
            }
            case 2: {
              obj.complete = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * FileMeta.codec().stream(reader, reader.uint32(), `${prefix}.meta`, {
                limits: opts.limits?.meta
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.complete`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AnnouncedFileMetaCidFieldEvent {
    field: '$.meta.cid'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AnnouncedFileMetaNameFieldEvent {
    field: '$.meta.name'
    value: string
  }

  export interface AnnouncedFileMetaSizeFieldEvent {
    field: '$.meta.size'
    value: number
  }

  export interface AnnouncedFileMetaMediaTypeFieldEvent {
    field: '$.meta.mediaType'
    value: string
  }

  export interface AnnouncedFileMetaEncryptedFieldEvent {
    field: '$.meta.encrypted'
    value: boolean
  }

  export interface AnnouncedFileMetaFilesFieldEvent {
    field: '$.meta.files'
    value: number
  }

  export interface AnnouncedFileCompleteFieldEvent {
    field: '$.complete'
    value: boolean
  }

  export function encode (obj: Partial<AnnouncedFile>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AnnouncedFile.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AnnouncedFile>): AnnouncedFile {
    return decodeMessage(buf, AnnouncedFile.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AnnouncedFile>): Generator<AnnouncedFileMetaCidFieldEvent | AnnouncedFileMetaNameFieldEvent | AnnouncedFileMetaSizeFieldEvent | AnnouncedFileMetaMediaTypeFieldEvent | AnnouncedFileMetaEncryptedFieldEvent | AnnouncedFileMetaFilesFieldEvent | AnnouncedFileCompleteFieldEvent> {
    return streamMessage(buf, AnnouncedFile.codec(), opts)
  }
}

export interface Announce {
  files: AnnouncedFile[]
}

export namespace Announce {
  let _codec: Codec<Announce>

  export const codec = (): Codec<Announce> => {
    if (_codec == null) {
      _codec = message<Announce>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.files != null && obj.files.length > 0) {
          for (const value of obj.files) {
            w.uint32(10)
            AnnouncedFile.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          files: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.files != null && obj.files.length === opts.limits.files) {
                throw new MaxLengthError('Decode error - repeated field "files" had too many elements')
              }

              obj.files.push(AnnouncedFile.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.files$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          files: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.files != null && obj.files === opts.limits.files) {
                throw new MaxLengthError('Streaming decode error - repeated field "files" had too many elements')
              }

              for (const evt of AnnouncedFile.codec().stream(reader, reader.uint32(), `${prefix}.files[]`, {
                limits: opts.limits?.files$
              })) {
                yield {
                  ...evt,
                  index: obj.files
                }
              }

              obj.files++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AnnounceFilesMetaCidFieldEvent {
    field: '$.files[].meta.cid'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface AnnounceFilesMetaNameFieldEvent {
    field: '$.files[].meta.name'
    value: string
    index: number
  }

  export interface AnnounceFilesMetaSizeFieldEvent {
    field: '$.files[].meta.size'
    value: number
    index: number
  }

  export interface AnnounceFilesMetaMediaTypeFieldEvent {
    field: '$.files[].meta.mediaType'
    value: string
    index: number
  }

  export interface AnnounceFilesMetaEncryptedFieldEvent {
    field: '$.files[].meta.encrypted'
    value: boolean
    index: number
  }

  export interface AnnounceFilesMetaFilesFieldEvent {
    field: '$.files[].meta.files'
    value: number
    index: number
  }

  export interface AnnounceFilesCompleteFieldEvent {
    field: '$.files[].complete'
    value: boolean
    index: number
  }

  export function encode (obj: Partial<Announce>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Announce.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announce>): Announce {
    return decodeMessage(buf, Announce.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announce>): Generator<AnnounceFilesMetaCidFieldEvent | AnnounceFilesMetaNameFieldEvent | AnnounceFilesMetaSizeFieldEvent | AnnounceFilesMetaMediaTypeFieldEvent | AnnounceFilesMetaEncryptedFieldEvent | AnnounceFilesMetaFilesFieldEvent | AnnounceFilesCompleteFieldEvent> {
    return streamMessage(buf, Announce.codec(), opts)
  }
}

export interface Withdraw {
  cids: Uint8Array<ArrayBuffer>[]
}

export namespace Withdraw {
  let _codec: Codec<Withdraw>

  export const codec = (): Codec<Withdraw> => {
    if (_codec == null) {
      _codec = message<Withdraw>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.cids != null && obj.cids.length > 0) {
          for (const value of obj.cids) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          cids: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.cids != null && obj.cids.length === opts.limits.cids) {
                throw new MaxLengthError('Decode error - repeated field "cids" had too many elements')
              }

              obj.cids.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          cids: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.cids != null && obj.cids === opts.limits.cids) {
                throw new MaxLengthError('Streaming decode error - repeated field "cids" had too many elements')
              }

              yield {
                field: `${prefix}.cids[]`,
                index: obj.cids,
                value: reader.bytes()
              }

              obj.cids++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface WithdrawCidsFieldEvent {
    field: '$.cids[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Withdraw>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Withdraw.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Withdraw>): Withdraw {
    return decodeMessage(buf, Withdraw.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Withdraw>): Generator<WithdrawCidsFieldEvent> {
    return streamMessage(buf, Withdraw.codec(), opts)
  }
}

export interface Have {
  cid: Uint8Array<ArrayBuffer>
  complete: boolean
  requestId: Uint8Array<ArrayBuffer>
}

export namespace Have {
  let _codec: Codec<Have>

  export const codec = (): Codec<Have> => {
    if (_codec == null) {
      _codec = message<Have>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.cid != null && obj.cid.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.cid)
        }

        if ((obj.complete != null && obj.complete !== false)) {
          w.uint32(16)
          w.bool(obj.complete)
        }

        if ((obj.requestId != null && obj.requestId.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.requestId)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          cid: uint8ArrayAlloc(0),
          complete: false,
          requestId: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.cid = reader.bytes()
              break
            }
            case 2: {
              obj.complete = reader.bool()
              break
            }
            case 3: {
              obj.requestId = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.cid`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.complete`,
                value: reader.bool()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HaveCidFieldEvent {
    field: '$.cid'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HaveCompleteFieldEvent {
    field: '$.complete'
    value: boolean
  }

  export interface HaveRequestIdFieldEvent {
    field: '$.requestId'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Have>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Have.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Have>): Have {
    return decodeMessage(buf, Have.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Have>): Generator<HaveCidFieldEvent | HaveCompleteFieldEvent | HaveRequestIdFieldEvent> {
    return streamMessage(buf, Have.codec(), opts)
  }
}

export interface Want {
  requestId: Uint8Array<ArrayBuffer>
  cid: Uint8Array<ArrayBuffer>
}

export namespace Want {
  let _codec: Codec<Want>

  export const codec = (): Codec<Want> => {
    if (_codec == null) {
      _codec = message<Want>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.requestId)
        }

        if ((obj.cid != null && obj.cid.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.cid)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: uint8ArrayAlloc(0),
          cid: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.bytes()
              break
            }
            case 2: {
              obj.cid = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.cid`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface WantRequestIdFieldEvent {
    field: '$.requestId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WantCidFieldEvent {
    field: '$.cid'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Want>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Want.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Want>): Want {
    return decodeMessage(buf, Want.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Want>): Generator<WantRequestIdFieldEvent | WantCidFieldEvent> {
    return streamMessage(buf, Want.codec(), opts)
  }
}

export interface CatalogRequest {
  requestId: Uint8Array<ArrayBuffer>
  responder: Uint8Array<ArrayBuffer>
}

export namespace CatalogRequest {
  let _codec: Codec<CatalogRequest>

  export const codec = (): Codec<CatalogRequest> => {
    if (_codec == null) {
      _codec = message<CatalogRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.requestId)
        }

        if ((obj.responder != null && obj.responder.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.responder)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: uint8ArrayAlloc(0),
          responder: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.bytes()
              break
            }
            case 2: {
              obj.responder = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.responder`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface CatalogRequestRequestIdFieldEvent {
    field: '$.requestId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CatalogRequestResponderFieldEvent {
    field: '$.responder'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<CatalogRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CatalogRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CatalogRequest>): CatalogRequest {
    return decodeMessage(buf, CatalogRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CatalogRequest>): Generator<CatalogRequestRequestIdFieldEvent | CatalogRequestResponderFieldEvent> {
    return streamMessage(buf, CatalogRequest.codec(), opts)
  }
}

export interface ProviderRecord {
  peer: Uint8Array<ArrayBuffer>
  complete: boolean
  ageMs: number
}

export namespace ProviderRecord {
  let _codec: Codec<ProviderRecord>

  export const codec = (): Codec<ProviderRecord> => {
    if (_codec == null) {
      _codec = message<ProviderRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peer != null && obj.peer.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.peer)
        }

        if ((obj.complete != null && obj.complete !== false)) {
          w.uint32(16)
          w.bool(obj.complete)
        }

        if ((obj.ageMs != null && obj.ageMs !== 0)) {
          w.uint32(24)
          w.uint32(obj.ageMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peer: uint8ArrayAlloc(0),
          complete: false,
          ageMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peer = reader.bytes()
              break
            }
            case 2: {
              obj.complete = reader.bool()
              break
            }
            case 3: {
              obj.ageMs = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.peer`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.complete`,
                value: reader.bool()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.ageMs`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ProviderRecordPeerFieldEvent {
    field: '$.peer'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProviderRecordCompleteFieldEvent {
    field: '$.complete'
    value: boolean
  }

  export interface ProviderRecordAgeMsFieldEvent {
    field: '$.ageMs'
    value: number
  }

  export function encode (obj: Partial<ProviderRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ProviderRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProviderRecord>): ProviderRecord {
    return decodeMessage(buf, ProviderRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProviderRecord>): Generator<ProviderRecordPeerFieldEvent | ProviderRecordCompleteFieldEvent | ProviderRecordAgeMsFieldEvent> {
    return streamMessage(buf, ProviderRecord.codec(), opts)
  }
}

export interface CatalogRecord {
  meta?: FileMeta
  providers: ProviderRecord[]
}

export namespace CatalogRecord {
  let _codec: Codec<CatalogRecord>

  export const codec = (): Codec<CatalogRecord> => {
    if (_codec == null) {
      _codec = message<CatalogRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.meta != null) {
          w.uint32(10)
          FileMeta.codec().encode(obj.meta, w)
        }

        if (obj.providers != null && obj.providers.length > 0) {
          for (const value of obj.providers) {
            w.uint32(18)
            ProviderRecord.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          providers: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.meta = FileMeta.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.meta
              })
              break
            }
            case 2: {
              if (opts.limits?.providers != null && obj.providers.length === opts.limits.providers) {
                throw new MaxLengthError('Decode error - repeated field "providers" had too many elements')
              }

              obj.providers.push(ProviderRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.providers$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          providers: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * FileMeta.codec().stream(reader, reader.uint32(), `${prefix}.meta`, {
                limits: opts.limits?.meta
              })

              break
            }
            case 2: {
              if (opts.limits?.providers != null && obj.providers === opts.limits.providers) {
                throw new MaxLengthError('Streaming decode error - repeated field "providers" had too many elements')
              }

              for (const evt of ProviderRecord.codec().stream(reader, reader.uint32(), `${prefix}.providers[]`, {
                limits: opts.limits?.providers$
              })) {
                yield {
                  ...evt,
                  index: obj.providers
                }
              }

              obj.providers++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface CatalogRecordMetaCidFieldEvent {
    field: '$.meta.cid'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CatalogRecordMetaNameFieldEvent {
    field: '$.meta.name'
    value: string
  }

  export interface CatalogRecordMetaSizeFieldEvent {
    field: '$.meta.size'
    value: number
  }

  export interface CatalogRecordMetaMediaTypeFieldEvent {
    field: '$.meta.mediaType'
    value: string
  }

  export interface CatalogRecordMetaEncryptedFieldEvent {
    field: '$.meta.encrypted'
    value: boolean
  }

  export interface CatalogRecordMetaFilesFieldEvent {
    field: '$.meta.files'
    value: number
  }

  export interface CatalogRecordProvidersPeerFieldEvent {
    field: '$.providers[].peer'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface CatalogRecordProvidersCompleteFieldEvent {
    field: '$.providers[].complete'
    value: boolean
    index: number
  }

  export interface CatalogRecordProvidersAgeMsFieldEvent {
    field: '$.providers[].ageMs'
    value: number
    index: number
  }

  export function encode (obj: Partial<CatalogRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CatalogRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CatalogRecord>): CatalogRecord {
    return decodeMessage(buf, CatalogRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CatalogRecord>): Generator<CatalogRecordMetaCidFieldEvent | CatalogRecordMetaNameFieldEvent | CatalogRecordMetaSizeFieldEvent | CatalogRecordMetaMediaTypeFieldEvent | CatalogRecordMetaEncryptedFieldEvent | CatalogRecordMetaFilesFieldEvent | CatalogRecordProvidersPeerFieldEvent | CatalogRecordProvidersCompleteFieldEvent | CatalogRecordProvidersAgeMsFieldEvent> {
    return streamMessage(buf, CatalogRecord.codec(), opts)
  }
}

export interface CatalogAnswer {
  requestId: Uint8Array<ArrayBuffer>
  records: CatalogRecord[]
}

export namespace CatalogAnswer {
  let _codec: Codec<CatalogAnswer>

  export const codec = (): Codec<CatalogAnswer> => {
    if (_codec == null) {
      _codec = message<CatalogAnswer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.requestId)
        }

        if (obj.records != null && obj.records.length > 0) {
          for (const value of obj.records) {
            w.uint32(18)
            CatalogRecord.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: uint8ArrayAlloc(0),
          records: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.bytes()
              break
            }
            case 2: {
              if (opts.limits?.records != null && obj.records.length === opts.limits.records) {
                throw new MaxLengthError('Decode error - repeated field "records" had too many elements')
              }

              obj.records.push(CatalogRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.records$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          records: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              if (opts.limits?.records != null && obj.records === opts.limits.records) {
                throw new MaxLengthError('Streaming decode error - repeated field "records" had too many elements')
              }

              for (const evt of CatalogRecord.codec().stream(reader, reader.uint32(), `${prefix}.records[]`, {
                limits: opts.limits?.records$
              })) {
                yield {
                  ...evt,
                  index: obj.records
                }
              }

              obj.records++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface CatalogAnswerRequestIdFieldEvent {
    field: '$.requestId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CatalogAnswerRecordsMetaCidFieldEvent {
    field: '$.records[].meta.cid'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface CatalogAnswerRecordsMetaNameFieldEvent {
    field: '$.records[].meta.name'
    value: string
    index: number
  }

  export interface CatalogAnswerRecordsMetaSizeFieldEvent {
    field: '$.records[].meta.size'
    value: number
    index: number
  }

  export interface CatalogAnswerRecordsMetaMediaTypeFieldEvent {
    field: '$.records[].meta.mediaType'
    value: string
    index: number
  }

  export interface CatalogAnswerRecordsMetaEncryptedFieldEvent {
    field: '$.records[].meta.encrypted'
    value: boolean
    index: number
  }

  export interface CatalogAnswerRecordsMetaFilesFieldEvent {
    field: '$.records[].meta.files'
    value: number
    index: number
  }

  export interface CatalogAnswerRecordsProvidersPeerFieldEvent {
    field: '$.records[].providers[].peer'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface CatalogAnswerRecordsProvidersCompleteFieldEvent {
    field: '$.records[].providers[].complete'
    value: boolean
    index: number
  }

  export interface CatalogAnswerRecordsProvidersAgeMsFieldEvent {
    field: '$.records[].providers[].ageMs'
    value: number
    index: number
  }

  export function encode (obj: Partial<CatalogAnswer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CatalogAnswer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CatalogAnswer>): CatalogAnswer {
    return decodeMessage(buf, CatalogAnswer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CatalogAnswer>): Generator<CatalogAnswerRequestIdFieldEvent | CatalogAnswerRecordsMetaCidFieldEvent | CatalogAnswerRecordsMetaNameFieldEvent | CatalogAnswerRecordsMetaSizeFieldEvent | CatalogAnswerRecordsMetaMediaTypeFieldEvent | CatalogAnswerRecordsMetaEncryptedFieldEvent | CatalogAnswerRecordsMetaFilesFieldEvent | CatalogAnswerRecordsProvidersPeerFieldEvent | CatalogAnswerRecordsProvidersCompleteFieldEvent | CatalogAnswerRecordsProvidersAgeMsFieldEvent> {
    return streamMessage(buf, CatalogAnswer.codec(), opts)
  }
}

export interface Envelope {
  version: number
  hello?: Hello
  announce?: Announce
  withdraw?: Withdraw
  have?: Have
  catalogAnswer?: CatalogAnswer
  want?: Want
  catalogRequest?: CatalogRequest
  issuedMs: number
}

export namespace Envelope {
  let _codec: Codec<Envelope>

  export const codec = (): Codec<Envelope> => {
    if (_codec == null) {
      _codec = message<Envelope>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.hello != null) {
          w.uint32(18)
          Hello.codec().encode(obj.hello, w)
        }

        if (obj.announce != null) {
          w.uint32(26)
          Announce.codec().encode(obj.announce, w)
        }

        if (obj.withdraw != null) {
          w.uint32(34)
          Withdraw.codec().encode(obj.withdraw, w)
        }

        if (obj.have != null) {
          w.uint32(42)
          Have.codec().encode(obj.have, w)
        }

        if (obj.catalogAnswer != null) {
          w.uint32(50)
          CatalogAnswer.codec().encode(obj.catalogAnswer, w)
        }

        if (obj.want != null) {
          w.uint32(58)
          Want.codec().encode(obj.want, w)
        }

        if (obj.catalogRequest != null) {
          w.uint32(66)
          CatalogRequest.codec().encode(obj.catalogRequest, w)
        }

        if ((obj.issuedMs != null && obj.issuedMs !== 0)) {
          w.uint32(72)
          w.uint64Number(obj.issuedMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          issuedMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.hello = Hello.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.hello
              })
              break
            }
            case 3: {
              obj.announce = Announce.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.announce
              })
              break
            }
            case 4: {
              obj.withdraw = Withdraw.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.withdraw
              })
              break
            }
            case 5: {
              obj.have = Have.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.have
              })
              break
            }
            case 6: {
              obj.catalogAnswer = CatalogAnswer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.catalogAnswer
              })
              break
            }
            case 7: {
              obj.want = Want.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.want
              })
              break
            }
            case 8: {
              obj.catalogRequest = CatalogRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.catalogRequest
              })
              break
            }
            case 9: {
              obj.issuedMs = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield * Hello.codec().stream(reader, reader.uint32(), `${prefix}.hello`, {
                limits: opts.limits?.hello
              })

              break
            }
            case 3: {
              yield * Announce.codec().stream(reader, reader.uint32(), `${prefix}.announce`, {
                limits: opts.limits?.announce
              })

              break
            }
            case 4: {
              yield * Withdraw.codec().stream(reader, reader.uint32(), `${prefix}.withdraw`, {
                limits: opts.limits?.withdraw
              })

              break
            }
            case 5: {
              yield * Have.codec().stream(reader, reader.uint32(), `${prefix}.have`, {
                limits: opts.limits?.have
              })

              break
            }
            case 6: {
              yield * CatalogAnswer.codec().stream(reader, reader.uint32(), `${prefix}.catalogAnswer`, {
                limits: opts.limits?.catalogAnswer
              })

              break
            }
            case 7: {
              yield * Want.codec().stream(reader, reader.uint32(), `${prefix}.want`, {
                limits: opts.limits?.want
              })

              break
            }
            case 8: {
              yield * CatalogRequest.codec().stream(reader, reader.uint32(), `${prefix}.catalogRequest`, {
                limits: opts.limits?.catalogRequest
              })

              break
            }
            case 9: {
              yield {
                field: `${prefix}.issuedMs`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface EnvelopeVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface EnvelopeHelloNameFieldEvent {
    field: '$.hello.name'
    value: string
  }

  export interface EnvelopeAnnounceFilesMetaCidFieldEvent {
    field: '$.announce.files[].meta.cid'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface EnvelopeAnnounceFilesMetaNameFieldEvent {
    field: '$.announce.files[].meta.name'
    value: string
    index: number
  }

  export interface EnvelopeAnnounceFilesMetaSizeFieldEvent {
    field: '$.announce.files[].meta.size'
    value: number
    index: number
  }

  export interface EnvelopeAnnounceFilesMetaMediaTypeFieldEvent {
    field: '$.announce.files[].meta.mediaType'
    value: string
    index: number
  }

  export interface EnvelopeAnnounceFilesMetaEncryptedFieldEvent {
    field: '$.announce.files[].meta.encrypted'
    value: boolean
    index: number
  }

  export interface EnvelopeAnnounceFilesMetaFilesFieldEvent {
    field: '$.announce.files[].meta.files'
    value: number
    index: number
  }

  export interface EnvelopeAnnounceFilesCompleteFieldEvent {
    field: '$.announce.files[].complete'
    value: boolean
    index: number
  }

  export interface EnvelopeWithdrawCidsFieldEvent {
    field: '$.withdraw.cids[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeHaveCidFieldEvent {
    field: '$.have.cid'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeHaveCompleteFieldEvent {
    field: '$.have.complete'
    value: boolean
  }

  export interface EnvelopeHaveRequestIdFieldEvent {
    field: '$.have.requestId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeCatalogAnswerRequestIdFieldEvent {
    field: '$.catalogAnswer.requestId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeCatalogAnswerRecordsMetaCidFieldEvent {
    field: '$.catalogAnswer.records[].meta.cid'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface EnvelopeCatalogAnswerRecordsMetaNameFieldEvent {
    field: '$.catalogAnswer.records[].meta.name'
    value: string
    index: number
  }

  export interface EnvelopeCatalogAnswerRecordsMetaSizeFieldEvent {
    field: '$.catalogAnswer.records[].meta.size'
    value: number
    index: number
  }

  export interface EnvelopeCatalogAnswerRecordsMetaMediaTypeFieldEvent {
    field: '$.catalogAnswer.records[].meta.mediaType'
    value: string
    index: number
  }

  export interface EnvelopeCatalogAnswerRecordsMetaEncryptedFieldEvent {
    field: '$.catalogAnswer.records[].meta.encrypted'
    value: boolean
    index: number
  }

  export interface EnvelopeCatalogAnswerRecordsMetaFilesFieldEvent {
    field: '$.catalogAnswer.records[].meta.files'
    value: number
    index: number
  }

  export interface EnvelopeCatalogAnswerRecordsProvidersPeerFieldEvent {
    field: '$.catalogAnswer.records[].providers[].peer'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface EnvelopeCatalogAnswerRecordsProvidersCompleteFieldEvent {
    field: '$.catalogAnswer.records[].providers[].complete'
    value: boolean
    index: number
  }

  export interface EnvelopeCatalogAnswerRecordsProvidersAgeMsFieldEvent {
    field: '$.catalogAnswer.records[].providers[].ageMs'
    value: number
    index: number
  }

  export interface EnvelopeWantRequestIdFieldEvent {
    field: '$.want.requestId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeWantCidFieldEvent {
    field: '$.want.cid'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeCatalogRequestRequestIdFieldEvent {
    field: '$.catalogRequest.requestId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeCatalogRequestResponderFieldEvent {
    field: '$.catalogRequest.responder'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeIssuedMsFieldEvent {
    field: '$.issuedMs'
    value: number
  }

  export function encode (obj: Partial<Envelope>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Envelope.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Envelope {
    return decodeMessage(buf, Envelope.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Generator<EnvelopeVersionFieldEvent | EnvelopeHelloNameFieldEvent | EnvelopeAnnounceFilesMetaCidFieldEvent | EnvelopeAnnounceFilesMetaNameFieldEvent | EnvelopeAnnounceFilesMetaSizeFieldEvent | EnvelopeAnnounceFilesMetaMediaTypeFieldEvent | EnvelopeAnnounceFilesMetaEncryptedFieldEvent | EnvelopeAnnounceFilesMetaFilesFieldEvent | EnvelopeAnnounceFilesCompleteFieldEvent | EnvelopeWithdrawCidsFieldEvent | EnvelopeHaveCidFieldEvent | EnvelopeHaveCompleteFieldEvent | EnvelopeHaveRequestIdFieldEvent | EnvelopeCatalogAnswerRequestIdFieldEvent | EnvelopeCatalogAnswerRecordsMetaCidFieldEvent | EnvelopeCatalogAnswerRecordsMetaNameFieldEvent | EnvelopeCatalogAnswerRecordsMetaSizeFieldEvent | EnvelopeCatalogAnswerRecordsMetaMediaTypeFieldEvent | EnvelopeCatalogAnswerRecordsMetaEncryptedFieldEvent | EnvelopeCatalogAnswerRecordsMetaFilesFieldEvent | EnvelopeCatalogAnswerRecordsProvidersPeerFieldEvent | EnvelopeCatalogAnswerRecordsProvidersCompleteFieldEvent | EnvelopeCatalogAnswerRecordsProvidersAgeMsFieldEvent | EnvelopeWantRequestIdFieldEvent | EnvelopeWantCidFieldEvent | EnvelopeCatalogRequestRequestIdFieldEvent | EnvelopeCatalogRequestResponderFieldEvent | EnvelopeIssuedMsFieldEvent> {
    return streamMessage(buf, Envelope.codec(), opts)
  }
}

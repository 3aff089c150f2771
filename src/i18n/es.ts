import { imageFormatName } from '../domain/images.js';
import { STATUS_ICON, fitLines, historyReply, settingsReply, shortPrompt, shown, sourcesReply, type Catalog } from './catalog.js';

const HELP = [
  'Envíame una foto con un texto y la convertiré en un vídeo corto.',
  'El texto es la instrucción: describe el movimiento, p. ej. «el gato gira despacio la cabeza y parpadea».',
  '',
  'Comandos:',
  '/settings – modelo y duración de tus vídeos, con precios',
  '/status – tus últimas peticiones',
  '/history – tus últimos vídeos, para recibir uno otra vez',
  '/cancel – detener las peticiones en curso',
  '/usage – tus vídeos y tu cupo de hoy',
  '/sources – canales cuyos vídeos nuevos resumo',
  '/subscribe <nombre> – recibir los resúmenes de una fuente',
  '/unsubscribe <nombre> – dejar de recibirlos',
  '/mysubs – tus suscripciones',
  '/language – español o inglés',
  '/help – este mensaje',
].join('\n');

function videos(n: number): string {
  return `${n} vídeo${n === 1 ? '' : 's'}`;
}

const STATUS_NAME: Record<string, string> = {
  requested: 'recibida',
  preparing: 'preparando',
  submitted: 'en cola',
  processing: 'generando',
  completed: 'completada',
  failed: 'fallida',
  cancelled: 'cancelada',
  queued: 'en espera',
  refused: 'rechazada',
};

/** Spanish: many of the users of the bots Telewan replaces speak it. */
export const es: Catalog = {
  name: 'Español',
  help: HELP,
  welcome: `¡Bienvenido a Telewan! 🎬\n\n${HELP}`,
  noCaption: 'Necesito un texto para saber qué debe pasar en el vídeo. Envía la foto otra vez con un texto que describa el movimiento.',
  album:
    '📸 Hago un vídeo por foto: de un álbum tomo la foto que lleva el texto. Para animar las demás, envía cada una por separado con su texto.',
  unsupportedMedia(kind) {
    const what = {
      video: 'un vídeo',
      animation: 'un GIF',
      sticker: 'un sticker',
      voice: 'un mensaje de voz',
      audio: 'un archivo de audio',
      video_note: 'un videomensaje',
      document: 'un archivo que no es una imagen',
      other: 'algo que no puedo usar',
    }[kind];
    return `🙂 Eso es ${what}. Yo convierto fotos en vídeos: envía una foto con un texto que describa el movimiento.`;
  },
  edited: '✏️ Editar el texto no cambia un vídeo ya empezado. Envía la foto otra vez con el texto nuevo para un vídeo nuevo.',
  unknown: 'No lo he entendido. Envía una foto con un texto, o /help.',
  progress: {
    received: '📥 Tengo tu foto. Estoy haciendo tu vídeo… suele tardar uno o dos minutos.',
    submitted: '⏳ Tu vídeo está en cola para generarse…',
    processing: '🎬 Generando tu vídeo… suele tardar uno o dos minutos.',
    sending: '📤 Enviando tu vídeo…',
    completed: '✅ Aquí tienes tu vídeo.',
  },
  unconfirmedDelivery: (videoUrl) => `✅ Tu vídeo está listo y se ha enviado arriba. Si no te ha llegado, descárgalo aquí: ${videoUrl}`,
  unconfirmedCachedDelivery: '✅ Tu vídeo se ha enviado arriba. Si no te ha llegado, envía la misma foto con el mismo texto para recibirlo.',
  queued: (place) =>
    place.paused
      ? `⏸ La generación de vídeos está en pausa un momento. Estás en la cola, posición ${place.position}; tu vídeo empieza cuando se reanude.`
      : `🕒 Ahora mismo se están haciendo muchos vídeos. Estás en la cola, posición ${place.position}; el tuyo empieza en cuanto quede un hueco.`,
  failure(reason, detail) {
    switch (reason) {
      case 'rejected':
        return `❌ El servicio de vídeo no aceptó esta petición${detail ? `: ${detail}` : ''}. Prueba con otra foto u otro texto.`;
      case 'bad-image':
        return `❌ No he podido usar esta foto${detail ? ` (${detail})` : ''}. Prueba con otra.`;
      case 'generation-failed':
        return `❌ No se ha podido generar el vídeo${detail ? `: ${detail}` : ''}. Puedes volver a intentarlo.`;
      case 'nsfw':
        return '❌ El vídeo generado se ha marcado como contenido no apto y no se puede enviar.';
      case 'deadline':
        return '⌛ La generación tardaba demasiado y se ha abandonado. Inténtalo de nuevo más tarde.';
      case 'cancelled':
        return '🛑 Cancelado.';
      case 'blocked':
        return '';
      case 'queue-timeout':
        return '⌛ Tu petición esperó demasiado a que terminara otro de tus vídeos y se ha descartado. Envíala de nuevo.';
      case 'busy':
        return '🚦 Ahora mismo estoy muy ocupado y no puedo aceptar más vídeos. Inténtalo de nuevo en unos minutos.';
      case 'line-timeout':
        return '⌛ Se están haciendo tantos vídeos que el tuyo esperó demasiado su turno y se ha descartado. Inténtalo de nuevo en unos minutos.';
      case 'unconfirmed':
        return '⌛ El servicio de vídeo no confirmó que recibiera tu petición y no llegó ningún vídeo a tiempo. Envía tu foto de nuevo.';
      case 'internal':
        return '❌ Algo ha fallado por nuestra parte. Inténtalo de nuevo más tarde.';
    }
  },
  status(lines) {
    if (lines.length === 0) return 'Todavía no tienes peticiones. Envía una foto con un texto para empezar una.';
    const rows = lines.map(
      (l) =>
        `${STATUS_ICON[l.status] ?? '•'} ${l.requestedAt.slice(0, 16).replace('T', ' ')} UTC – ${STATUS_NAME[l.status] ?? l.status} – «${shortPrompt(l.prompt)}»`,
    );
    return `Tus últimas peticiones:\n${rows.join('\n')}`;
  },
  cancelled: (count) =>
    count === 0 ? 'Nada que cancelar: no tienes peticiones en curso.' : count === 1 ? 'Cancelando tu petición en curso…' : `Cancelando tus ${count} peticiones en curso…`,
  history: (videos) =>
    historyReply(videos, {
      none: 'Todavía no tienes vídeos. Envía una foto con un texto para hacer uno.',
      header: 'Tus últimos vídeos:',
      pressToResend: 'Pulsa un número para recibir ese vídeo otra vez (gratis).',
    }),
  resending: 'Enviándolo otra vez 🔁',
  settings: (view) =>
    settingsReply(view, {
      header: '⚙️ Tus próximos vídeos:',
      model: 'Modelo',
      length: 'Duración',
      price: 'Precio',
      seconds: (n) => `${n} s`,
      usd: (amount) => (amount === undefined ? 'precio desconocido' : `${amount.toFixed(2).replace('.', ',')} $`),
      chooseBelow: 'Elige un modelo o una duración abajo.',
    }),
  settingsSaved: 'Guardado ✅',
  videoTooLarge: (videoUrl) => `Tu vídeo es demasiado grande para Telegram; descárgalo aquí: ${videoUrl}`,
  againButton: '🔁 Otra vez',
  newPromptButton: '✏️ Nuevo texto',
  makingAgain: 'Haciendo otro 🔁',
  newPromptAsk: '✏️ Envíame el nuevo texto para esta foto: tu próximo mensaje será la instrucción de un vídeo nuevo.',
  repeatGone: 'Ya no tengo esta foto. Envíala otra vez con un texto.',
  resendGone: 'Este vídeo ya no está disponible. Envía la foto otra vez para hacer uno nuevo.',
  subscribeUsage: '¿Qué fuente? Envía /subscribe seguido de su nombre; /sources las muestra.',
  unsubscribeUsage: '¿Qué fuente? Envía /unsubscribe seguido de su nombre. /mysubs muestra tus suscripciones.',
  staleButton: 'Este botón ya no funciona.',
  sources: (sources) =>
    sourcesReply(sources, {
      none: 'Todavía no hay fuentes. Vuelve a mirar más tarde.',
      header: 'Fuentes:',
      subscribed: 'suscrito',
      more: (rest) => `…y ${rest} más.`,
      button: (title) => `Suscribirme a ${title}`,
      pressOrType: 'Pulsa un botón, o envía /subscribe <nombre>.',
      followingAll: 'Ya las sigues todas. /unsubscribe <nombre> deja una.',
    }),
  subscribe(result, slug) {
    switch (result.outcome) {
      case 'subscribed':
        return `Te has suscrito a ${result.title}.`;
      case 'already-subscribed':
        return `Ya estás suscrito a ${result.title}.`;
      case 'unknown-source':
        return `No hay ninguna fuente llamada ${shown(slug)}. /sources las muestra.`;
    }
  },
  subscribeNotice(result) {
    switch (result.outcome) {
      case 'subscribed':
        return 'Suscrito ✅';
      case 'already-subscribed':
        return 'Ya estabas suscrito';
      case 'unknown-source':
        return 'Esta fuente ya no existe.';
    }
  },
  unsubscribe(result, slug) {
    switch (result.outcome) {
      case 'unsubscribed':
        return `Has cancelado tu suscripción a ${result.title}.`;
      case 'not-subscribed':
        return `No estabas suscrito a ${result.title}.`;
      case 'unknown-source':
        return `No hay ninguna fuente llamada ${shown(slug)}. /sources las muestra.`;
    }
  },
  subscriptions(subscriptions) {
    if (subscriptions.length === 0) return 'Todavía no tienes suscripciones. /sources muestra a qué te puedes suscribir.';
    const { lines } = fitLines(
      subscriptions.map((s) => `• ${s.title} (${s.slug})`),
      (rest) => `…y ${rest} más.`,
    );
    return `Tus suscripciones:\n${lines.join('\n')}\n\n/unsubscribe <nombre> deja una.`;
  },
  refusal: (refusal) =>
    refusal.reason === 'daily-quota'
      ? `📅 Ya has usado tus ${videos(refusal.quota)} de hoy; el cupo se renueva a las 00:00 UTC.`
      : `✋ Ya tienes ${videos(refusal.limit)} en curso. Espera a que termine uno (o cancélalo con /cancel) y envía tu foto de nuevo.`,
  userQueued: (limit) => `⏸ Ya tienes ${videos(limit)} en curso. El tuyo está en espera y empieza en cuanto termine uno de ellos (/cancel lo detiene).`,
  slowDown: '🐢 Más despacio, por favor: estás enviando mensajes demasiado rápido. Los ignoraré un momento.',
  usage(usage) {
    const quota =
      usage.dailyQuota === null
        ? `${videos(usage.today)} (sin límite)`
        : `${usage.today} de ${usage.dailyQuota} (quedan ${Math.max(0, usage.dailyQuota - usage.today)})`;
    const underWay = `${usage.running}${usage.maxActive === null ? '' : ` de ${usage.maxActive}`}${usage.queued > 0 ? `, ${usage.queued} en espera` : ''}`;
    return [
      'Tu uso de hoy (UTC):',
      `• Vídeos: ${quota}`,
      `• En curso: ${underWay}`,
      `• Coste: ${usage.spentTodayUsd.toFixed(2).replace('.', ',')} $`,
      ...(usage.dailyQuota === null ? [] : ['El cupo se renueva a las 00:00 UTC.']),
    ].join('\n');
  },
  languagePrompt: '¿En qué idioma quieres que te hable?',
  languageChosen: '✅ A partir de ahora te hablaré en español.',
  unsupportedImage: (mimeType) => {
    const format = imageFormatName(mimeType);
    const what = format ? `una imagen ${format}` : `de tipo ${mimeType.slice(0, 40)}`;
    return `❌ Solo puedo convertir en vídeo imágenes JPEG, PNG o WebP, y este archivo es ${what}. Envíalo como foto, o como archivo JPEG, PNG o WebP.`;
  },
  imageTooLarge: (megabytes) => `❌ Este archivo supera los ${megabytes} MB que puedo descargar. Envía la imagen como foto, o un archivo más pequeño.`,
  commands: {
    start: 'Empezar a usar Telewan',
    help: 'Cómo hacer un vídeo',
    settings: 'Modelo y duración de tus vídeos',
    status: 'Tus últimas peticiones',
    history: 'Tus últimos vídeos, para recibir uno otra vez',
    cancel: 'Detener las peticiones en curso',
    usage: 'Tus vídeos y tu cupo de hoy',
    language: 'Español o inglés',
    sources: 'Canales cuyos vídeos nuevos se resumen',
    subscribe: 'Recibir los resúmenes de una fuente',
    unsubscribe: 'Dejar de recibir los resúmenes de una fuente',
    mysubs: 'Tus suscripciones',
  },
};

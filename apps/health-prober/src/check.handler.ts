import { ProberCheckRequest, QueueGroups, Subjects } from '@beacon/contracts';
import { NatsService } from '@beacon/platform';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ProberService } from './prober.service';

/**
 * `beacon.prober.check {service_id, publish?}`: any replica answers (queue group), whether
 * or not it owns the service, with the check's result.
 */
@Injectable()
export class CheckHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(ProberService) private readonly prober: ProberService,
  ) {}

  onApplicationBootstrap(): void {
    this.nats.serve(
      Subjects.proberCheck,
      ProberCheckRequest,
      (request) => this.prober.checkNow(request.service_id, request.publish !== false),
      {
        queue: QueueGroups.healthProber,
      },
    );
  }
}
